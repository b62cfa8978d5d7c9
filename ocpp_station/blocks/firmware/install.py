"""The install step: what puts a downloaded, verified firmware image on the board.

The station cannot know how a board is flashed, so the integrator provides the step, either

* in code: ``Station(config, install_firmware=step)`` with ``async def step(image: FirmwareImage)
  -> str``, or
* in the configuration: ``[firmware] install_command = ["/usr/local/bin/flash", "{file}"]``, a
  program run with the image's path in place of ``{file}``.

The step returns (or the command's exit status says) one of

* ``INSTALLED`` ("Installed", exit status 0 with ``reboot_after_install = false``): the new
  firmware runs now;
* ``REBOOT`` ("RebootRequired", exit status 0 with ``reboot_after_install = true``, the
  default): the firmware is installed and a reboot activates it.  The station reports
  ``InstallRebooting``, restarts with boot reason ``FirmwareUpdate`` and reports ``Installed``
  after the boot (L01.FR.32 option a); the embedding application's ``on_reset`` hook is called
  with ``"FirmwareUpdate"`` so it can reboot the board;

or fails: :class:`InstallVerificationFailed` (exit status 3) when the image's own check fails
(``InstallVerificationFailed``, L01.FR.29), any other exception or exit status
(``InstallationFailed``).

The ``sim`` HAL backend has a default step that installs nothing and asks for a reboot; with any
other backend and no step configured, UpdateFirmware is ``Rejected``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

INSTALLED = "Installed"
REBOOT = "RebootRequired"
VERIFICATION_EXIT_STATUS = 3


@dataclass(frozen=True)
class FirmwareImage:
    path: Path  # the downloaded file (removed after the step returns)
    location: str  # where it came from
    request_id: int
    signed: bool  # the signature was verified against the manufacturer root (L01)


class InstallFailed(Exception):
    """The installation failed (``InstallationFailed``)."""


class InstallVerificationFailed(InstallFailed):
    """The image failed the installer's own verification (``InstallVerificationFailed``)."""


InstallStep = Callable[[FirmwareImage], Awaitable[str]]


async def simulated_install(image: FirmwareImage) -> str:
    """The ``sim`` backend's step: nothing to flash; the new firmware "runs" after a reboot."""
    return REBOOT


def command_step(argv: Sequence[str], *, reboot: bool) -> InstallStep:
    """An install step that runs ``argv`` (``{file}`` replaced by the image's path)."""

    async def run(image: FirmwareImage) -> str:
        args = [part.replace("{file}", str(image.path)) for part in argv]
        try:
            process = await asyncio.create_subprocess_exec(
                *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
            )
        except OSError as exc:
            raise InstallFailed(f"cannot run {args[0]}: {exc}") from None
        output, _ = await process.communicate()
        text = output.decode(errors="replace").strip()[-200:]
        if process.returncode == VERIFICATION_EXIT_STATUS:
            raise InstallVerificationFailed(text or "verification failed")
        if process.returncode != 0:
            raise InstallFailed(f"exit status {process.returncode}: {text}")
        return REBOOT if reboot else INSTALLED

    return run


def resolve(
    given: InstallStep | None,
    command: Sequence[str] | None,
    *,
    reboot: bool,
    backend: str,
) -> InstallStep | None:
    """The install step in force: the embedding application's, else the configured command, else
    the ``sim`` backend's default; None when the station cannot install firmware."""
    if given is not None:
        return given
    if command:
        return command_step(command, reboot=reboot)
    if backend == "sim":
        return simulated_install
    return None
