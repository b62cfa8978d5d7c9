"""The certificate files: <data_dir>/certs/roots/<use>/<sha256>.pem, 0700 folders, 0600 files,
atomic writes, what a new store object (a restart) reads back."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from pki import make_ca

from ocpp_station.blocks.certificates.store import RootStore
from ocpp_station.files import write_atomic


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_layout_modes_and_restart(tmp_path: Path) -> None:
    store = RootStore.in_data_dir(tmp_path)
    root = make_ca("Root")
    successor = make_ca("Successor", issuer=root)
    entry = store.add("CSMSRootCertificate", root.certificate)
    second = store.add("CSMSRootCertificate", successor.certificate, root.certificate)
    manufacturer = store.add("ManufacturerRootCertificate", make_ca("M").certificate)

    der = root.certificate.public_bytes(serialization.Encoding.DER)
    expected = tmp_path / "certs" / "roots" / "CSMSRootCertificate"
    assert entry.path == expected / f"{hashlib.sha256(der).hexdigest()}.pem"
    assert mode(tmp_path / "certs") == 0o700
    assert mode(tmp_path / "certs" / "roots") == 0o700
    assert mode(expected) == 0o700
    for path in (entry.path, second.path, manufacturer.path):
        assert mode(path) == 0o600
    assert not list(tmp_path.rglob("*.tmp"))

    again, problems = RootStore.in_data_dir(tmp_path).load()  # a restart
    assert problems == []
    by_path = {e.path: e for e in again}
    assert set(by_path) == {entry.path, second.path, manufacturer.path}
    assert by_path[second.path].issuer == root.certificate
    assert by_path[entry.path].issuer is None
    assert by_path[manufacturer.path].use == "ManufacturerRootCertificate"

    store.add("CSMSRootCertificate", root.certificate)  # the same again: replaced, not doubled
    store.remove(by_path[second.path])
    left, _ = store.load()
    assert sorted(e.path for e in left) == sorted([entry.path, manufacturer.path])


def test_wide_folder_is_narrowed_and_unreadable_file_skipped(tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir(mode=0o755)
    (tmp_path / "certs").chmod(0o755)
    store = RootStore.in_data_dir(tmp_path)
    assert mode(tmp_path / "certs") == 0o700
    store.add("V2GRootCertificate", make_ca("V2G").certificate)
    junk = store.root / "V2GRootCertificate" / "junk.pem"
    junk.write_text("not a certificate")
    found, problems = store.load()
    assert len(found) == 1 and len(problems) == 1 and "junk.pem" in problems[0]
    assert junk.exists()  # never deleted


def test_write_atomic_replaces_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "f.pem"
    write_atomic(target, b"one")
    target.chmod(0o644)
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert mode(target) == 0o600
    with pytest.raises(ValueError):
        RootStore(tmp_path).add("Unknown", make_ca("X").certificate)
