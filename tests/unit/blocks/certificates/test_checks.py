"""InstallCertificate checks (M05.FR.07, M05.FR.10/11)."""

from __future__ import annotations

import datetime

from pki import DAY, issue_client, make_ca

from ocpp_station.blocks.certificates import checks

NOW = datetime.datetime.now(datetime.UTC)


def refusal(result: object) -> str | None:
    return result.reason if isinstance(result, checks.Refusal) else None


def test_parse_one() -> None:
    root = make_ca("Root")
    assert checks.parse_one(root.pem) == root.certificate
    assert refusal(checks.parse_one("garbage")) == "InvalidFormat"
    assert refusal(checks.parse_one(root.pem + root.pem)) == "InvalidFormat"
    broken = root.pem.replace("A", "B", 5)
    assert refusal(checks.parse_one(broken)) == "InvalidFormat"


def test_validity_ca_and_issuer() -> None:
    def check(cert: object, installed: tuple[object, ...] = ()) -> str | None:
        return refusal(
            checks.check_install(cert, "CSMSRootCertificate", NOW, installed)  # type: ignore[arg-type]
        )

    assert check(make_ca("Root").certificate) is None
    expired = make_ca("Old", not_before=NOW - 20 * DAY, not_after=NOW - DAY)
    assert check(expired.certificate) == "Expired"
    future = make_ca("Future", not_before=NOW + DAY, not_after=NOW + 20 * DAY)
    assert check(future.certificate) == "NotYetValid"
    assert check(make_ca("Leafish", ca=False).certificate) == "NotCA"
    root = make_ca("Root")
    assert check(issue_client(root, "CS001").certificate, (root.certificate,)) == "NotCA"
    sub = make_ca("Sub", issuer=root)
    assert check(sub.certificate) == "UnknownIssuer"
    assert check(sub.certificate, (root.certificate,)) is None
    # installed once, it may be installed again after its issuer went (M05.FR.17)
    assert check(sub.certificate, (sub.certificate,)) is None
    assert refusal(checks.check_install(root.certificate, "Nonsense", NOW, ())) == "UnknownUse"


def test_additional_root_certificate_check() -> None:
    old = make_ca("Old root")
    successor = make_ca("New root", issuer=old)  # signed by the old root
    stranger = make_ca("Stranger")
    use = "CSMSRootCertificate"
    installed = (old.certificate,)

    def check(cert: object) -> str | None:
        return refusal(
            checks.check_install(cert, use, NOW, installed, replaced_csms_roots=installed)  # type: ignore[arg-type]
        )

    assert check(successor.certificate) is None  # M05.FR.12
    assert check(stranger.certificate) == "NotSignedByOldRoot"  # M05.FR.11
    assert check(old.certificate) is None  # the same one again (M05.FR.17)
    assert checks.replacing_root(successor.certificate, installed) == old.certificate
    assert checks.replacing_root(stranger.certificate, installed) is None
    # other uses are not concerned
    other = checks.check_install(
        stranger.certificate, "MORootCertificate", NOW, (), replaced_csms_roots=installed
    )
    assert other is None
