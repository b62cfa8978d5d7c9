"""Log upload (use case N01): GetLog, LogStatusNotification, the station's diagnostics log.

GetLog is answered with the file's name (N01.FR.01); then the log is assembled from the
station's rotated diagnostics log (``DiagnosticsLog``, N01.FR.04) or the security log
(``SecurityLog``, N01.FR.03: the security block's persistent log, one line per event),
limited to the requested time window,
and uploaded over HTTP(S) (N01.FR.14) with ``Uploading`` → ``Uploaded`` or a failure status
(N01.FR.08–10), every status with the request's ``requestId`` (N01.FR.07).  A second GetLog
cancels the first (N01.FR.12/20).
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from ocpp_station.blocks.base import Block
from ocpp_station.blocks.diagnostics import rules
from ocpp_station.blocks.diagnostics.logfile import DiagnosticsLog
from ocpp_station.blocks.firmware import transfer
from ocpp_station.clock import iso
from ocpp_station.context import Context
from ocpp_station.ocpp_types import status_info
from ocpp_station.rpc.endpoint import Reply


class SecurityLog(Protocol):
    """Where the security log comes from (the security block)."""

    def security_log_lines(self) -> list[str]: ...


class DiagnosticsBlock(Block):
    def __init__(self, ctx: Context, *, security_log: SecurityLog | None = None) -> None:
        super().__init__(ctx)
        self._security_log = security_log
        ctx.handlers.register("GetLog", self.on_get_log)
        self.log_file = DiagnosticsLog(ctx.config.data_dir / "logs", ctx.now)
        self._job: asyncio.Task[Any] | None = None
        self._current: rules.LogRequest | None = None
        self.last_status: dict[str, Any] | None = None

    async def start(self) -> None:
        self.log_file.attach(self.ctx.log)

    async def stop(self) -> None:
        if self._job is not None and not self._job.done():
            self._job.cancel()
        self.log_file.detach()

    # -- CSMS ------------------------------------------------------------------------------------
    async def on_get_log(self, payload: dict[str, Any]) -> Reply:
        request = rules.LogRequest.from_payload(payload)
        if not transfer.supported(request.location):
            info = "upload protocols: " + ", ".join(transfer.SCHEMES).upper()
            return Reply(
                {"status": "Rejected", "statusInfo": status_info("UnsupportedProtocol", info)}
            )
        cancelled = self._current
        status = rules.answer_new_request(cancelled is not None)
        if cancelled is not None:  # N01.FR.12: the running upload stops
            await self._cancel_job()
        filename = request.filename(self.ctx.config.id, self.ctx.timestamp())

        async def begin() -> None:
            self._current = request
            if cancelled is not None:  # N01.FR.20
                await self._status("AcceptedCanceled", cancelled.request_id)
            self._job = self.ctx.spawn(self._run(request, filename), "log upload")

        return Reply({"status": status, "filename": filename}, then=begin)

    async def _cancel_job(self) -> None:
        if self._job is not None and not self._job.done():
            self._job.cancel()
            await asyncio.gather(self._job, return_exceptions=True)
        self._current = None

    # -- the upload --------------------------------------------------------------------------------
    async def _run(self, request: rules.LogRequest, filename: str) -> None:
        try:
            # the security log is read here, on the loop that writes it; the file is made in a
            # worker thread
            security = (
                self._security_log.security_log_lines()
                if request.log_type == "SecurityLog" and self._security_log is not None
                else []
            )
            data = await asyncio.to_thread(self._assemble, request, security)
            await self._status("Uploading", request.request_id)  # N01.FR.08
            status = await self._upload(request, filename, data)
            await self._status(status, request.request_id)  # N01.FR.09/10
        finally:
            if self._current is request:
                self._current = None

    def _assemble(self, request: rules.LogRequest, security: list[str]) -> bytes:
        """The file: a header, then the log's records in the time window (a worker thread)."""
        window = " .. ".join(
            iso(t) if t is not None else "*" for t in (request.oldest, request.latest)
        )
        header = (
            f"# ocpp-station {request.log_type} of {self.ctx.config.id}\n"
            f"# generated {self.ctx.timestamp()}, records {window}\n"
        )
        if request.log_type == "SecurityLog":
            source = security
        else:
            source = self.log_file.lines()
        body = "".join(rules.select_lines(source, request.oldest, request.latest))
        return (header + body).encode("utf-8")

    async def _upload(self, request: rules.LogRequest, filename: str, data: bytes) -> str:
        context = transfer.client_ssl_context(self.ctx.config.ca_file)
        status = "UploadFailure"
        for delay in [0.0] + [request.retry_interval] * request.retries:
            if delay:
                await self.ctx.clock.sleep(delay)
            try:
                answer = await asyncio.to_thread(
                    transfer.upload, request.location, data, filename, context=context
                )
            except transfer.TransferError as exc:
                status = rules.failure_status(exc.status)
                self.ctx.log.warning("log upload to %s failed: %s", request.location, exc)
                if not rules.retryable(status):
                    break
                continue
            self.ctx.log.info("log %s uploaded (%d bytes, HTTP %s)", filename, len(data), answer)
            return "Uploaded"
        return status

    async def _status(self, status: str, request_id: int) -> None:
        self.last_status = {"status": status, "requestId": request_id}
        await self.ctx.dispatcher.send("LogStatusNotification", dict(self.last_status))

    async def report_status(self, *, triggered: bool = False) -> None:
        """TriggerMessage(LogStatusNotification): Uploading while an upload runs, else Idle."""
        running = self._current.request_id if self._current is not None else None
        payload = rules.triggered_status(running)
        await self.ctx.dispatcher.send("LogStatusNotification", payload, triggered=triggered)

    def describe(self, state: dict[str, Any]) -> None:
        log: dict[str, Any] = {"uploading": self._current is not None}
        if self.last_status is not None:
            log["status"] = self.last_status["status"]
            log["request_id"] = self.last_status["requestId"]
        state["log_upload"] = log
