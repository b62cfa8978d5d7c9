"""Headless Chromium driven over the Chrome DevTools Protocol (CDP) with the ``websockets`` client:
just what the status-page tests need (open a page, evaluate JavaScript, take a screenshot).

Debian's ``chromium`` package (``/usr/bin/chromium``; ``CHROMIUM`` overrides the path).  The tests
using it skip with a clear message when it is not installed (``.ci/run`` installs it where it can).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


def chromium_path() -> str | None:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return path if Path(path).is_file() and os.access(path, os.X_OK) else None


class Browser:
    """``async with Browser(url) as page: await page.evaluate("document.title")``."""

    def __init__(self, url: str, *, width: int = 1280, height: int = 860) -> None:
        self.url = url
        self.size = (width, height)
        self._profile = Path(tempfile.mkdtemp(prefix="ocs-chromium-"))
        self._proc: asyncio.subprocess.Process | None = None
        self._ws: ClientConnection | None = None
        self._ids = itertools.count(1)

    async def __aenter__(self) -> Browser:
        path = chromium_path()
        assert path is not None, "chromium is not installed"
        self._proc = await asyncio.create_subprocess_exec(
            path,
            *FLAGS,
            f"--user-data-dir={self._profile}",
            "--remote-debugging-port=0",  # Chromium picks one and writes DevToolsActivePort
            f"--window-size={self.size[0]},{self.size[1]}",
            self.url,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        port = await self._devtools_port()
        targets = await asyncio.to_thread(self._json, f"http://127.0.0.1:{port}/json/list")
        page = next(t for t in targets if t.get("type") == "page")
        self._ws = await connect(page["webSocketDebuggerUrl"], max_size=2**26)
        await self.send("Runtime.enable")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._proc is not None and self._proc.returncode is None:
            self._proc.terminate()
            try:
                await asyncio.wait_for(self._proc.wait(), 10)
            except TimeoutError:
                self._proc.kill()
                await self._proc.wait()
        shutil.rmtree(self._profile, ignore_errors=True)

    async def _devtools_port(self, timeout: float = 30.0) -> int:
        active = self._profile / "DevToolsActivePort"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if active.exists():
                first = active.read_text().splitlines()[:1]
                if first and first[0].isdigit():
                    return int(first[0])
            assert self._proc is not None
            if self._proc.returncode is not None:
                raise RuntimeError(f"chromium exited with {self._proc.returncode}")
            await asyncio.sleep(0.05)
        raise TimeoutError("chromium did not open its DevTools port")

    @staticmethod
    def _json(url: str) -> Any:
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """One CDP command; its result (events that arrive meanwhile are skipped)."""
        assert self._ws is not None
        ident = next(self._ids)
        await self._ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(await asyncio.wait_for(self._ws.recv(), 30))
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 20.0) -> Any:
        """Evaluate ``expression`` until it is truthy; its value.  An exception (the page is
        still loading: an element not there yet) counts as not yet."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                value = await self.evaluate(expression)
            except RuntimeError as exc:
                value, problem = None, str(exc)
            else:
                problem = f"last value {value!r}"
            if value:
                return value
            if loop.time() > deadline:
                raise TimeoutError(f"still not true after {timeout} s: {expression} ({problem})")
            await asyncio.sleep(0.1)

    async def screenshot(self, path: Path) -> None:
        result = await self.send("Page.captureScreenshot", format="png")
        await asyncio.to_thread(path.write_bytes, base64.b64decode(result["data"]))
