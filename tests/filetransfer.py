"""Test helpers for file transfer (import as ``from filetransfer import ...``): a real HTTP(S)
server in a thread that serves files and records uploads, and a throw-away firmware signing PKI
(a manufacturer root and a signing certificate it issued, made with ``cryptography``)."""

from __future__ import annotations

import base64
import http.server
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from pki import issue_leaf, make_ca, name


@dataclass
class Upload:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FileServer:
    """``files`` are served by GET; POST and PUT land in ``uploads``; ``status`` forces an answer
    for a path (e.g. 403)."""

    context: ssl.SSLContext | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    uploads: list[Upload] = field(default_factory=list)
    status: dict[str, int] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    _server: http.server.ThreadingHTTPServer | None = None

    def start(self) -> FileServer:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _forced(self) -> bool:
                owner.requests.append((self.command, self.path))
                code = owner.status.get(self.path)
                if code is None:
                    return False
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return True

            def do_GET(self) -> None:
                if self._forced():
                    return
                body = owner.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _receive(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if self._forced():
                    return
                headers = {k: v for k, v in self.headers.items()}
                owner.uploads.append(Upload(self.command, self.path, headers, body))
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = _receive
            do_PUT = _receive

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.context is not None:
            server.socket = self.context.wrap_socket(server.socket, server_side=True)
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def url(self, path: str) -> str:
        assert self._server is not None
        scheme = "https" if self.context is not None else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}{path}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def free_port_url(path: str = "/nothing") -> str:
    """An HTTP URL nobody listens on (the port is bound, then closed)."""
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}{path}"


@dataclass(frozen=True)
class SigningPki:
    root_file: Path  # the manufacturer root, PEM (the station's firmware.manufacturer_root)
    certificate_pem: str  # the firmware signing certificate, issued by the root
    key: ec.EllipticCurvePrivateKey

    def sign(self, image: bytes) -> str:
        """The base64 ECDSA/SHA-256 signature over the whole image (L01.FR.04)."""
        return base64.b64encode(self.key.sign(image, ec.ECDSA(hashes.SHA256()))).decode()


def make_signing_pki(directory: Path, common_name: str = "Manufacturer Root") -> SigningPki:
    """A manufacturer root and a firmware signing certificate it issued (the test PKI of
    ``tests/pki.py``)."""
    root = make_ca(common_name)
    leaf = issue_leaf(root, name("Firmware Signing"), ExtendedKeyUsageOID.CODE_SIGNING)
    assert isinstance(leaf.key, ec.EllipticCurvePrivateKey)
    directory.mkdir(parents=True, exist_ok=True)
    root_file = directory / f"{common_name.replace(' ', '_')}.pem"
    root_file.write_text(root.pem)
    return SigningPki(root_file, leaf.pem, leaf.key)
