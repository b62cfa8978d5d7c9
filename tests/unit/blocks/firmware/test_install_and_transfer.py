"""The install step (command and defaults) and the HTTP(S) transfer functions."""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from filetransfer import FileServer, free_port_url
from pki import make_pki

from ocpp_station.blocks.firmware import install, transfer
from ocpp_station.blocks.firmware.install import FirmwareImage


@pytest.fixture
def server() -> Iterator[FileServer]:
    s = FileServer().start()
    yield s
    s.stop()


def image(tmp_path: Path) -> FirmwareImage:
    path = tmp_path / "fw.bin"
    path.write_bytes(b"fw")
    return FirmwareImage(path, "http://x/fw.bin", 1, False)


async def test_command_step_exit_statuses(tmp_path: Path) -> None:
    script = "import sys; sys.exit(int(open(sys.argv[1]).read() or 0))"
    step = install.command_step([sys.executable, "-c", script, "{file}"], reboot=True)
    fw = image(tmp_path)
    fw.path.write_text("0")
    assert await step(fw) == install.REBOOT
    no_reboot = install.command_step([sys.executable, "-c", script, "{file}"], reboot=False)
    assert await no_reboot(fw) == install.INSTALLED
    fw.path.write_text("3")
    with pytest.raises(install.InstallVerificationFailed):
        await step(fw)
    fw.path.write_text("1")
    with pytest.raises(install.InstallFailed):
        await step(fw)
    missing = install.command_step([str(tmp_path / "no-such-program")], reboot=True)
    with pytest.raises(install.InstallFailed):
        await missing(fw)


def test_resolve_prefers_the_application_then_the_command_then_sim() -> None:
    async def mine(_: FirmwareImage) -> str:
        return install.INSTALLED

    assert install.resolve(mine, ["x"], reboot=True, backend="serial") is mine
    assert install.resolve(None, ["x"], reboot=True, backend="serial") is not None
    assert install.resolve(None, None, reboot=True, backend="sim") is install.simulated_install
    assert install.resolve(None, None, reboot=True, backend="serial") is None  # Rejected then


def test_download_over_https_with_the_station_ca(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "tls")
    https = FileServer(context=pki.server_ssl_context()).start()
    try:
        https.files["/fw.bin"] = b"abc" * 100_000
        dest = tmp_path / "out.bin"
        seen: list[int] = []
        size = transfer.download(
            https.url("/fw.bin"),
            dest,
            context=transfer.client_ssl_context(pki.ca_cert),
            progress=lambda n, total: seen.append(n),
        )
        assert size == 300_000 and dest.read_bytes() == b"abc" * 100_000
        assert seen[-1] == 300_000
        with pytest.raises(transfer.TransferError):  # the system CAs alone do not know it
            transfer.download(https.url("/fw.bin"), dest, context=transfer.client_ssl_context(None))
    finally:
        https.stop()


def test_download_errors(server: FileServer, tmp_path: Path) -> None:
    context = transfer.client_ssl_context(None)
    with pytest.raises(transfer.TransferError) as missing:
        transfer.download(server.url("/none"), tmp_path / "x", context=context)
    assert missing.value.status == 404
    with pytest.raises(transfer.TransferError):
        transfer.download(free_port_url(), tmp_path / "x", context=context)
    with pytest.raises(transfer.TransferError):
        transfer.download("ftp://host/fw.bin", tmp_path / "x", context=context)
    assert not (tmp_path / "x").exists() and not (tmp_path / "x.part").exists()


def test_upload_sends_basic_auth_and_falls_back_to_put(server: FileServer) -> None:
    context = transfer.client_ssl_context(None)
    url = server.url("/logs").replace("http://", "http://user:p%40ss@")
    assert transfer.upload(url, b"log", "a.log", context=context) == 201
    [post] = server.uploads
    assert post.method == "POST" and post.path == "/logs"
    assert post.headers["Authorization"] == "Basic " + base64.b64encode(b"user:p@ss").decode()
    server.status["/put-only"] = 405
    with pytest.raises(transfer.TransferError) as refused:
        transfer.upload(server.url("/put-only"), b"log", "a.log", context=context)
    assert refused.value.status == 405
    assert [m for m, _ in server.requests[-2:]] == ["POST", "PUT"]
