"""A station that needs no certificate at start (security profile 1, ws://, nothing installed,
no ca_file, no client certificate, no pending CSR) does not import ``cryptography`` until a
certificate message needs it; one with an installed root loads the store at start as before
(docs/performance.md, start-up).  Each case runs in a fresh interpreter (sys.modules is shared
by the test process)."""

from __future__ import annotations

from pathlib import Path

from pki import make_ca
from support import offline_station_toml, run_python

from ocpp_station.blocks.certificates.store import RootStore

STATION = """\
import asyncio, sys
from ocpp_station import Station
from ocpp_station.config import load_config

async def main():
    station = Station(load_config({config!r}))
    await station.start()  # stores, device model, every block; the CSMS is unreachable
    try:
        loaded_at_start = "cryptography" in sys.modules
        state = {{}}
        station.blocks.certificates.describe(state)
        print("start", loaded_at_start, sorted(state["certificates"].items()))
        answer = await station.blocks.certificates.on_get_installed_certificate_ids({{}})
        print("first use", "cryptography" in sys.modules, answer["status"])
    finally:
        await station.stop()

asyncio.run(main())
"""


def _run(tmp_path: Path, extra: str = "") -> list[str]:
    config = offline_station_toml(tmp_path, station="security_profile = 1\n", extra=extra)
    return run_python(STATION.format(config=str(config))).strip().splitlines()


def test_a_profile_1_station_without_certificates_does_not_import_cryptography(
    tmp_path: Path,
) -> None:
    lines = _run(tmp_path)
    assert lines[0] == "start False []", "cryptography imported at start-up"
    # the first certificate message loads the store (M03.FR.02: nothing installed, NotFound)
    assert lines[1] == "first use True NotFound"
    assert (tmp_path / "data" / "station.db").exists()  # it did start
    assert (tmp_path / "data" / "certs" / "roots").is_dir()  # the store was opened


def test_a_station_with_an_installed_root_loads_the_store_at_start(tmp_path: Path) -> None:
    RootStore.in_data_dir(tmp_path / "data").add("CSMSRootCertificate", make_ca("R").certificate)
    lines = _run(tmp_path)
    assert lines[0] == "start True [('CSMSRootCertificate', 1)]"
    assert lines[1] == "first use True Accepted"


def test_a_configured_manufacturer_root_is_imported_at_start(tmp_path: Path) -> None:
    root = tmp_path / "manufacturer.pem"
    root.write_text(make_ca("M").pem)
    lines = _run(tmp_path, f'[firmware]\nmanufacturer_root = "{root}"\n')
    assert lines[0] == "start True [('ManufacturerRootCertificate', 1)]"
    assert lines[1] == "first use True Accepted"
