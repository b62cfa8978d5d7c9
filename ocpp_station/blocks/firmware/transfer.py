"""File transfer over HTTP and HTTPS (``OCPPCommCtrlr.FileTransferProtocols``): the firmware
download (L01/L02) and the log upload (N01).

Plain blocking standard-library code (``urllib.request``), meant to run in a worker thread
(``asyncio.to_thread``) so the event loop never waits on the network; every socket operation has
a timeout, and a download checks a cancel flag between chunks.  HTTPS trusts the system CAs plus
the CSMS root of the station's ``ca_file`` (N01.FR.15/16).  Credentials in the URL
(``https://user:password@host/path``) are sent as HTTP basic authentication (N01.FR.17).
"""

from __future__ import annotations

import base64
import os
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCHEMES = ("http", "https")
TIMEOUT = 30.0  # seconds without progress on a socket before a transfer fails
CHUNK = 1 << 16

Progress = Callable[[int, int | None], None]  # (bytes so far, total or None)


class TransferError(Exception):
    """A transfer failed; ``status`` is the HTTP status when the server answered."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Cancelled(TransferError):
    """The transfer was cancelled (a newer request replaced it)."""


def supported(url: str) -> bool:
    return urllib.parse.urlsplit(url).scheme.lower() in SCHEMES


def client_ssl_context(ca_file: Path | None) -> ssl.SSLContext:
    """TLS for transfers: the system CAs plus the CSMS root (``[station] ca_file``)."""
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    return context


def _request(url: str, method: str, data: bytes | None = None) -> urllib.request.Request:
    """A request for ``url`` with its userinfo moved into an Authorization header."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in SCHEMES:
        raise TransferError(f"unsupported protocol {parts.scheme!r}")
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    clean = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    request = urllib.request.Request(clean, data=data, method=method)
    if parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    return request


def _open(request: urllib.request.Request, context: ssl.SSLContext, timeout: float) -> Any:
    try:
        return urllib.request.urlopen(request, timeout=timeout, context=context)
    except urllib.error.HTTPError as exc:
        raise TransferError(f"HTTP {exc.code} {exc.reason}", exc.code) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TransferError(str(reason)) from None


def download(
    url: str,
    dest: Path,
    *,
    context: ssl.SSLContext,
    timeout: float = TIMEOUT,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> int:
    """Fetch ``url`` into ``dest`` (written beside it, then renamed); returns the byte count."""
    request = _request(url, "GET")
    partial = dest.with_name(dest.name + ".part")
    response = _open(request, context, timeout)
    received = 0
    try:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        with partial.open("wb") as out:
            while True:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("download cancelled")
                try:
                    chunk = response.read(CHUNK)
                except OSError as exc:
                    raise TransferError(f"download interrupted: {exc}") from None
                if not chunk:
                    break
                out.write(chunk)
                received += len(chunk)
                if progress is not None:
                    progress(received, total)
            out.flush()
            os.fsync(out.fileno())
        if total is not None and received != total:
            raise TransferError(f"short download: {received} of {total} bytes")
        partial.replace(dest)
    finally:
        response.close()
        partial.unlink(missing_ok=True)
    return received


def upload(
    url: str,
    data: bytes,
    filename: str,
    *,
    context: ssl.SSLContext,
    timeout: float = TIMEOUT,
) -> int:
    """Send ``data`` to ``url``: an HTTP POST as multipart/form-data naming the file (N01.FR.19);
    when the server does not take a POST (405/501), a PUT of the bare file.  Returns the HTTP
    status; raises :class:`TransferError` on failure."""
    boundary = uuid.uuid4().hex
    body = (
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="uploadfile"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = _request(url, "POST", body)
    request.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    try:
        return _send(request, context, timeout)
    except TransferError as exc:
        if exc.status not in (405, 501):
            raise
    request = _request(url, "PUT", data)
    request.add_header("Content-Type", "application/octet-stream")
    request.add_header("Content-Disposition", f'attachment; filename="{filename}"')
    return _send(request, context, timeout)


def _send(request: urllib.request.Request, context: ssl.SSLContext, timeout: float) -> int:
    response = _open(request, context, timeout)
    try:
        response.read()
        status: int = response.status
    finally:
        response.close()
    return status
