"""Firmware update (use cases L01 secure, L02 non-secure).

UpdateFirmware is answered first (the signing certificate checked before, L01.FR.21/22); then one
job runs: ``DownloadScheduled`` until ``retrieveDateTime`` (L01.FR.13), ``Downloading``,
``Downloaded`` (or ``DownloadFailed`` after the retries, L01.FR.30), ``SignatureVerified`` (or
``InvalidSignature`` and the security event, L01.FR.03), ``InstallScheduled`` while it waits for
``installDateTime`` (L01.FR.16) or for running transactions to end (L01.FR.06/34) — meanwhile the
idle EVSEs report Unavailable unless ``AllowNewSessionsPendingFirmwareUpdate`` (L01.FR.07) —
then ``Installing`` with every EVSE Unavailable, and the integrator's install step
(:mod:`~ocpp_station.blocks.firmware.install`).  When the step asks for a reboot the station
reports ``InstallRebooting``, restarts with boot reason ``FirmwareUpdate`` and reports
``Installed`` after the boot (L01.FR.32 option a); either way ``Installed`` comes with the
security event ``FirmwareUpdated`` (L01.FR.31).  Every status carries the request's ``requestId``
(L01.FR.10) and is kept in the state record ``firmware``, for TriggerMessage and the reboot.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from ocpp_station.blocks.base import Block
from ocpp_station.blocks.firmware import rules
from ocpp_station.blocks.firmware.install import (
    REBOOT,
    FirmwareImage,
    InstallStep,
    InstallVerificationFailed,
)
from ocpp_station.blocks.interfaces import (
    BootReason,
    FinishedSessions,
    Holds,
    ManufacturerRoots,
    SecurityEvents,
)
from ocpp_station.context import Context
from ocpp_station.ocpp_types import status_info
from ocpp_station.rpc.endpoint import Reply

STATE_KEY = "firmware"
PROGRESS_STEP = 1 << 20  # log the download's progress every MiB


class FirmwareBlock(Block):
    def __init__(
        self,
        ctx: Context,
        *,
        sessions: FinishedSessions,
        availability: Holds,
        registration: BootReason,
        security: SecurityEvents,
        restart: Callable[[str], None],
        install: InstallStep | None,
        roots: ManufacturerRoots | None = None,
    ) -> None:
        super().__init__(ctx)
        self._roots = roots
        self._sessions = sessions
        self._availability = availability
        self._registration = registration
        self._security = security
        self._restart = restart
        self._install = install
        ctx.handlers.register("UpdateFirmware", self.on_update_firmware)
        sessions.add_finished_listener(self._transaction_ended)
        self.phase = rules.IDLE
        self._job: asyncio.Task[Any] | None = None
        self._cancel: threading.Event | None = None  # the running download's (made with it)
        self._tx_ended = asyncio.Event()
        self._record: dict[str, Any] = {}
        self._progress: dict[str, Any] = {}
        self._sending = False

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        self._record = dict(self.ctx.state.load(STATE_KEY) or {})
        self.phase = rules.IDLE
        if self._record:  # (a download writes its file only after the record says Downloading)
            self._cleanup()
        failed = rules.interrupted_status(self._record.get("last"))
        if failed is not None and "rebooted" not in self._record:
            # The update was cut short: its failure goes to the CSMS once online.
            self._record.update(last=failed, delivered=False)
            self._save()

    async def stop(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
        if self._job is not None and not self._job.done():
            self._job.cancel()

    async def online(self, first: bool) -> None:
        pending = self._record.get("rebooted")
        if pending is not None:
            # L01.FR.32 (a): the new firmware runs; Installed is reported after the boot.
            self._record.pop("rebooted")
            await self._status("Installed", int(pending))
            await self._updated()
        elif self._record.get("last") and not self._record.get("delivered", True):
            if not self._sending:  # a status sent while offline goes now (not one in flight)
                await self._send_last()

    @property
    def _workdir(self) -> Path:
        return self.ctx.config.data_dir / "firmware"

    # -- CSMS ------------------------------------------------------------------------------------
    async def on_update_firmware(self, payload: dict[str, Any]) -> Reply:
        request = rules.UpdateRequest.from_payload(payload)
        if self._install is None:
            return Reply(_answer("Rejected", "NoInstallStep", "no firmware install step"))
        if request.secure:
            problem = self._certificate_problem(request)
            if problem is not None:  # L01.FR.22, L01.FR.02
                return Reply(
                    _answer("InvalidCertificate", "InvalidCertificate", problem),
                    then=lambda: self._security_event("InvalidFirmwareSigningCertificate", problem),
                )
        status = rules.answer_new_request(self.phase)
        if status == "Rejected":
            return Reply(_answer("Rejected", "InstallInProgress", "installation running"))
        if status == "AcceptedCanceled":
            await self._cancel_job()
        self.phase = rules.PREPARING
        return Reply({"status": status}, then=lambda: self._begin(request))

    def _certificate_problem(self, request: rules.UpdateRequest) -> str | None:
        if request.signing_certificate is None:
            return "no signingCertificate to verify the signature with"
        root_file = self.ctx.config.manufacturer_root
        try:
            signature = _signature()
            if self._roots is not None:
                # the installed ManufacturerRootCertificates (M05), the configured file among them
                roots = self._roots.manufacturer_roots()
            else:
                roots = signature.load_roots(root_file.read_bytes()) if root_file else []
        except (OSError, ValueError) as exc:
            return f"manufacturer root unreadable: {exc}"
        now = datetime.fromtimestamp(self.ctx.now(), tz=UTC)
        return _signature().check_signing_certificate(request.signing_certificate, roots, now)

    async def _cancel_job(self) -> None:
        """L01.FR.24: the running update stops; its EVSEs are released."""
        if self._cancel is not None:
            self._cancel.set()
        if self._job is not None and not self._job.done():
            self._job.cancel()
            await asyncio.gather(self._job, return_exceptions=True)
        await self._availability.hold(set())
        self._cleanup()

    async def _begin(self, request: rules.UpdateRequest) -> None:
        self._cancel = threading.Event()
        self._job = self.ctx.spawn(self._run(request), "firmware")

    # -- the job ---------------------------------------------------------------------------------
    async def _run(self, request: rules.UpdateRequest) -> None:
        try:
            image = await self._download(request)
            if image is None:
                return
            if not await self._verify(request, image):
                return
            await self._wait_to_install(request)
            await self._install_image(request, image)
        finally:
            if self._job is asyncio.current_task():
                self.phase = rules.IDLE

    async def _download(self, request: rules.UpdateRequest) -> Path | None:
        rid = request.request_id
        if wait := rules.due_in(request.retrieve_at, self.ctx.now()):
            await self._status("DownloadScheduled", rid)  # L01.FR.13
            await self.ctx.clock.sleep(wait)
        self._workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self._workdir, 0o700)  # the data directory's rule: only the station reads it
        dest = self._workdir / f"firmware-{rid}.bin"
        # lazy: the HTTP(S) client loads with the first download, not at every start
        from ocpp_station.blocks.firmware import transfer  # lazy

        context = transfer.client_ssl_context(self.ctx.config.ca_file)
        await self._status("Downloading", rid)
        error: Exception | None = None
        for delay in rules.retry_delays(request.retries, request.retry_interval):
            if delay:
                self.ctx.log.info("firmware download failed (%s); retry in %ss", error, delay)
                await self.ctx.clock.sleep(delay)
            self._progress = {"bytes": 0, "total": None}
            try:
                size = await asyncio.to_thread(
                    transfer.download,
                    request.location,
                    dest,
                    context=context,
                    progress=self._on_progress,
                    cancel=self._cancel,
                )
            except transfer.TransferError as exc:
                error = exc
                continue
            self.ctx.log.info("firmware %s downloaded (%d bytes)", request.location, size)
            await self._status("Downloaded", rid)
            return dest
        self.ctx.log.warning("firmware download from %s failed: %s", request.location, error)
        await self._status("DownloadFailed", rid)  # L01.FR.30
        return None

    def _on_progress(self, received: int, total: int | None) -> None:
        """Called from the download thread: progress for ``status`` and the log."""
        before = self._progress.get("bytes", 0)
        self._progress = {"bytes": received, "total": total}
        if received // PROGRESS_STEP != before // PROGRESS_STEP:
            self.ctx.log.info("firmware download: %d of %s bytes", received, total or "?")

    async def _verify(self, request: rules.UpdateRequest, image: Path) -> bool:
        if not request.secure:
            return True  # L02: nothing to verify against
        assert request.signing_certificate is not None  # checked before accepting
        signature = _signature()
        digest = await asyncio.to_thread(signature.file_digest, image)
        if signature.verify_signature(digest, request.signature, request.signing_certificate):
            await self._status("SignatureVerified", request.request_id)
            return True
        await self._status("InvalidSignature", request.request_id)
        await self._security_event("InvalidFirmwareSignature", request.location)  # L01.FR.03
        self._cleanup()
        return False

    async def _wait_to_install(self, request: rules.UpdateRequest) -> None:
        rid = request.request_id
        if wait := rules.due_in(request.install_at, self.ctx.now()):
            await self._status("InstallScheduled", rid)  # L01.FR.16
            await self.ctx.clock.sleep(wait)
        if not self._sessions.busy_evses():
            return
        # L01.FR.06/34: transactions run; the installation waits for them to end.
        if self._record.get("last") != "InstallScheduled":
            await self._status("InstallScheduled", rid)
        allow = self.ctx.dm.get_bool(
            "ChargingStation", "AllowNewSessionsPendingFirmwareUpdate", default=False
        )
        if not allow:  # L01.FR.07: idle EVSEs go Unavailable, and so does each one freed
            await self._availability.hold(set(self.ctx.layout.ids()))
        while self._sessions.busy_evses():
            self._tx_ended.clear()
            await self._tx_ended.wait()

    async def _transaction_ended(self, evse: int) -> None:
        self._tx_ended.set()

    async def _install_image(self, request: rules.UpdateRequest, image: Path) -> None:
        assert self._install is not None
        rid = request.request_id
        self.phase = rules.INSTALLING
        await self._availability.hold(set(self.ctx.layout.ids()))  # Unavailable while installing
        await self._status("Installing", rid)
        firmware = FirmwareImage(image, request.location, rid, request.secure)
        try:
            outcome = await self._install(firmware)
        except InstallVerificationFailed as exc:
            self.ctx.log.warning("firmware verification failed: %s", exc)
            await self._failed("InstallVerificationFailed", rid)  # L01.FR.29
            return
        except Exception as exc:
            self.ctx.log.warning("firmware installation failed: %s", exc)
            await self._failed("InstallationFailed", rid)
            return
        finally:
            self._cleanup()
        if outcome == REBOOT:
            self._record["rebooted"] = rid
            self._save()
            self._registration.set_boot_reason("FirmwareUpdate")
            await self._status("InstallRebooting", rid)  # L01.FR.15
            self._restart("FirmwareUpdate")
            return
        await self._status("Installed", rid)  # L01.FR.28
        await self._updated()
        await self._availability.hold(set())

    async def _failed(self, status: str, rid: int) -> None:
        await self._status(status, rid)
        await self._availability.hold(set())

    async def _updated(self) -> None:
        await self._security_event("FirmwareUpdated", None)  # L01.FR.31

    def _cleanup(self) -> None:
        try:
            leftovers = list(self._workdir.iterdir())  # (no folder: nothing was downloaded)
        except (FileNotFoundError, NotADirectoryError):
            return
        for leftover in leftovers:
            leftover.unlink(missing_ok=True)

    # -- statuses ----------------------------------------------------------------------------------
    async def _status(self, status: str, request_id: int) -> None:
        """L01.FR.01: every new state is reported; kept for TriggerMessage (L01.FR.25/26)."""
        self._record.update(last=status, requestId=request_id, delivered=False)
        self._save()
        self.ctx.log.info("firmware update %s: %s", request_id, status)
        await self._send_last()

    async def _send_last(self) -> None:
        payload = rules.status_payload(self._record["last"], self._record["requestId"])
        self._sending = True
        try:
            answer = await self.ctx.dispatcher.send("FirmwareStatusNotification", payload)
        finally:
            self._sending = False
        if answer is not None:
            self._record["delivered"] = True
            self._save()

    async def report_status(self, *, triggered: bool = False) -> None:
        """TriggerMessage(FirmwareStatusNotification): the last status, or Idle."""
        last = self._record.get("last")
        current = None if last is None else {"status": last, "requestId": self._record["requestId"]}
        payload = rules.triggered_status(current)
        await self.ctx.dispatcher.send("FirmwareStatusNotification", payload, triggered=triggered)

    async def _security_event(self, kind: str, tech_info: str | None) -> None:
        # The appendix marks these three critical: they reach the CSMS (L01.FR.02/03/31).
        await self._security.raise_event(kind, tech_info=tech_info, critical=True)

    def _save(self) -> None:
        self.ctx.state.save(STATE_KEY, self._record)

    def describe(self, state: dict[str, Any]) -> None:
        firmware: dict[str, Any] = {"phase": self.phase}
        if self._record.get("last"):
            firmware["status"] = self._record["last"]
            firmware["request_id"] = self._record["requestId"]
        if self.phase != rules.IDLE and self._progress:
            firmware["downloaded_bytes"] = self._progress.get("bytes", 0)
            firmware["total_bytes"] = self._progress.get("total")
        state["firmware"] = firmware


def _answer(status: str, reason: str, info: str) -> dict[str, Any]:
    return {"status": status, "statusInfo": status_info(reason, info)}


def _signature() -> ModuleType:
    """The signature checks, with ``cryptography``: loaded when a signed update first arrives,
    not at every start (start-up time and memory on a small board)."""
    from ocpp_station.blocks.firmware import signature  # lazy: cryptography only when needed

    return signature
