"""Test helpers for file transfer (import as ``from filetransfer import ...``): a real HTTP(S)
server in a thread that serves files and records uploads, and a throw-away firmware signing PKI
(a manufacturer root and a signing certificate it issued, made with ``cryptography``)."""

from __future__ import annotations

import base64
import datetime
import http.server
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


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


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_signing_pki(directory: Path, common_name: str = "Manufacturer Root") -> SigningPki:
    now = datetime.datetime.now(datetime.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("Firmware Signing"))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    root_file = directory / f"{common_name.replace(' ', '_')}.pem"
    root_file.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    return SigningPki(root_file, leaf.public_bytes(serialization.Encoding.PEM).decode(), key)
