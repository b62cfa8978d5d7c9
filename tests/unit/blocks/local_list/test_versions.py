"""The version rules of D01/D02 (pure)."""

from __future__ import annotations

from ocpp_station.blocks.local_list.versions import NO_LIST, reported_version, version_refusal


def test_reported_version() -> None:
    """D02.FR.01-03: the installed version, 0 when none was sent or the list is disabled."""
    assert reported_version(True, 12) == 12
    assert reported_version(True, NO_LIST) == 0
    assert reported_version(False, 12) == 0


def test_version_refusals() -> None:
    assert version_refusal("Full", 1, 5) is None  # D01.FR.15: Full replaces whatever the version
    assert version_refusal("Differential", 6, 5) is None
    mismatch = version_refusal("Differential", 5, 5)  # D01.FR.19
    assert mismatch is not None and mismatch.status == "VersionMismatch"
    zero = version_refusal("Full", 0, 0)  # D01.FR.18
    assert zero is not None and zero.status == "Failed"
    not_int = version_refusal("Full", True, 0)
    assert not_int is not None and not_int.status == "Failed"
    unknown = version_refusal("Other", 3, 0)
    assert unknown is not None and unknown.status == "Failed"
