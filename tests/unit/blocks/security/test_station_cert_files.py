"""The station certificate files under <data_dir>/certs/station (A02.FR.05/10/28)."""

from __future__ import annotations

import stat
from pathlib import Path

from pki import Issued, make_pki, pem, sign_csr

from ocpp_station.blocks.security.csr import build_csr, key_to_pem, new_key
from ocpp_station.blocks.security.station_cert import StationCertificateFiles


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _renew(files: StationCertificateFiles, ca: Issued) -> int:
    key = new_key()
    files.write_pending_key(key_to_pem(key))
    leaf = sign_csr(build_csr(key, "CS001", "ExampleCPO"), ca)
    files.install(pem(leaf))
    return leaf.serial_number


def test_install_keeps_the_previous_pair_until_confirmed(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    ca = pki.ca
    files = StationCertificateFiles(tmp_path / "data", (pki.client_cert, pki.client_key))
    assert files.current_pair() == (pki.client_cert, pki.client_key)  # the config's pair
    factory = files.certificate()
    assert factory is not None
    serial = _renew(files, ca)
    station = tmp_path / "data" / "certs" / "station"
    assert _mode(tmp_path / "data" / "certs") == 0o700 and _mode(station) == 0o700
    for name in ("cert.pem", "key.pem", "previous-cert.pem", "previous-key.pem"):
        assert _mode(station / name) == 0o600
    assert not (station / "pending-key.pem").exists()
    assert files.current_pair() == (station / "cert.pem", station / "key.pem")
    assert files.unconfirmed()
    cert = files.certificate()
    assert cert is not None and cert.serial_number == serial
    assert files.confirm()  # A02.FR.10: the pair not in use is deleted
    assert not files.unconfirmed()
    assert not (station / "previous-cert.pem").exists()
    assert not (station / "previous-key.pem").exists()
    # the config's files are the installer's: never touched
    assert pki.client_cert.exists() and pki.client_key.exists()


def test_fall_back_puts_the_previous_pair_back(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    ca = pki.ca
    files = StationCertificateFiles(tmp_path / "data", (pki.client_cert, pki.client_key))
    first = _renew(files, ca)
    files.confirm()
    _renew(files, ca)
    assert files.unconfirmed()
    assert files.fall_back()  # A02.FR.28
    cert = files.certificate()
    assert cert is not None and cert.serial_number == first
    assert not files.unconfirmed()
    assert not files.fall_back()  # nothing left to fall back to


def test_a_second_renewal_before_the_first_worked_keeps_the_pair_that_worked(
    tmp_path: Path,
) -> None:
    pki = make_pki(tmp_path / "pki")
    ca = pki.ca
    files = StationCertificateFiles(tmp_path / "data", (pki.client_cert, pki.client_key))
    factory = files.certificate()
    assert factory is not None
    _renew(files, ca)
    _renew(files, ca)  # the first renewed pair never worked: not kept as "previous"
    assert files.fall_back()
    cert = files.certificate()
    assert cert is not None and cert.serial_number == factory.serial_number


def test_pending_key_is_private_and_survives(tmp_path: Path) -> None:
    files = StationCertificateFiles(tmp_path / "data", (None, None))
    assert files.current_pair() is None and files.certificate() is None
    pem_key = key_to_pem(new_key())
    files.write_pending_key(pem_key)
    again = StationCertificateFiles(tmp_path / "data", (None, None))
    assert again.pending_key_pem() == pem_key
    assert _mode(tmp_path / "data" / "certs" / "station" / "pending-key.pem") == 0o600


def test_files_of_a_directory_made_at_this_start_have_no_renewed_pair(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    configured = (pki.client_cert, pki.client_key)
    new = StationCertificateFiles(tmp_path / "data", configured, new=True)
    assert not new.renewed()
    assert new.current_pair() == configured
    _renew(new, pki.ca)  # an install changes it, as for any station
    assert new.renewed()
    assert new.current_pair() == (
        tmp_path / "data" / "certs" / "station" / "cert.pem",
        tmp_path / "data" / "certs" / "station" / "key.pem",
    )
