"""The station as an application runs it: the station core plus the local control API, the
optional status page and the service-manager hooks.

:class:`Station` serves the control socket of ``[control] socket`` (when configured) next to the
station core: the socket stays up across a reset (which restarts the core), and what
``monitor_variables`` asked for is kept across it too.  A socket path that is a directory, a file
or the live socket of another running station ends the start (``SocketPathError``, one line);
only a stale socket is replaced.  Two more hooks, both off by default:

- ``[http] listen``: the live status page (``ocpp_station.http``), started after the core and
  kept up across a reset like the control socket; it shows the last OCPP frames (secrets masked).
- :attr:`Station.service`: a :class:`~ocpp_station.service.ServiceManager` that ``ocpp-station
  run`` sets when systemd started it as a ``Type=notify`` service.  ``READY=1`` goes out once the
  stores are open and the first connection attempt is under way (not when it succeeded: a CSMS
  that cannot be reached must not fail the unit), the watchdog pings start with it, and the
  ``STATUS=`` line follows the connection and registration state.

Every OCPP frame is also logged at DEBUG on the station's logger (secrets masked, the message id
in the record's ``message_id`` for the JSON log format).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ocpp_station.config import StationConfig
from ocpp_station.service import ServiceManager, redact, status_line
from ocpp_station.service.logs import StationTag
from ocpp_station.service.redact import basic_token
from ocpp_station.station import StationCore

if TYPE_CHECKING:  # typing only: each loads when its feature is configured (a lean start)
    from ocpp_station.control.api import ControlApi
    from ocpp_station.control.server import ControlServer
    from ocpp_station.http.frames import RecentFrames
    from ocpp_station.http.server import PageServer


class Station(StationCore):
    control_server: ControlServer | None = None
    control_api: ControlApi | None = None
    status_page: PageServer | None = None  # ocpp_station.http.server, loaded when configured
    service: ServiceManager | None = None  # set by `ocpp-station run` under systemd

    def __init__(self, config: StationConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.recent_frames: RecentFrames | None = None
        if config.http_listen:
            from ocpp_station.http.frames import RecentFrames  # lazy: only with [http] listen

            self.recent_frames = RecentFrames()
        self._secrets: tuple[str, ...] = ()
        if config.password:
            self._secrets = (config.password, basic_token(config.id, config.password))
        self._hooks: list[Callable[[], None]] = []
        user_hook = self.on_frame
        self.on_frame = lambda direction, text: self._tap(direction, text, user_hook)
        if not any(isinstance(f, StationTag) for f in self.log.filters):
            self.log.addFilter(StationTag(config.id))

    def _tap(self, direction: str, text: str, user_hook: Callable[[str, str], None] | None) -> None:
        if self.recent_frames is not None:
            self.recent_frames.add(direction, text, self.clock.time(), self._secrets)
        if self.log.isEnabledFor(logging.DEBUG):
            from ocpp_station.http.frames import frame_head  # lazy: only when logging DEBUG

            head = frame_head(text)
            self.log.debug(
                "%s %s",
                "CSMS → station" if direction == "in" else "station → CSMS",
                redact(text, self._secrets),
                extra={"message_id": head.message_id if head else None, "component": "ocpp"},
            )
        if user_hook is not None:
            user_hook(direction, text)

    async def start(self) -> None:
        socket = self.config.control_socket
        fresh: ControlServer | None = None
        if socket is not None and self.control_server is None:
            from ocpp_station.control.api import CONTROL_TOPICS  # lazy: only with a socket
            from ocpp_station.control.server import ControlServer  # lazy: only with a socket

            # Checked before the core starts: a path the socket must not take (a file, a
            # directory, another station's live socket) ends the start with SocketPathError.
            fresh = ControlServer(socket, topics=CONTROL_TOPICS, logger=self.log)
            await fresh.check_path()
        await super().start()
        if fresh is not None:
            try:
                await fresh.start()
            except BaseException:
                await super().stop()
                raise
            from ocpp_station.control.api import ControlApi  # lazy: only with a socket

            self.control_server = fresh
            self.control_api = ControlApi(self, fresh)
        if self.control_api is not None:
            self.control_api.attach()
        if self.config.http_listen and self.status_page is None:
            await self._start_page(self.config.http_listen)
        if self.service is not None:
            await self._ready(self.service)

    async def _start_page(self, listen: str) -> None:
        assert self.recent_frames is not None
        # lazy: the page's server and websockets' server side load only when a page is configured
        from ocpp_station.http.pages import StationPage  # lazy: only with [http] listen
        from ocpp_station.http.server import ListenError, PageServer  # lazy: only with [http]

        page = StationPage(self, self.recent_frames, self.clock.time)
        server = PageServer(page, listen, clock=self.base_clock, logger=self.log)
        try:
            await server.start()
        except ListenError:
            await self.stop()  # e.g. the address is in use: nothing stays half-started
            raise
        self.status_page = server
        self._hooks.append(self.subscribe(lambda _topic, _data: server.wake()))

    async def _ready(self, service: ServiceManager) -> None:
        # start() spawned the transport task; one turn of the loop lets it begin connecting.
        await asyncio.sleep(0)
        first = not service.ready_sent
        service.ready(status_line(self.connected, self.registration))
        if first:  # a reset restarts the core and says READY again; subscribe once
            self._hooks.append(
                self.subscribe(
                    lambda _topic, _data: service.status(
                        status_line(self.connected, self.registration)
                    )
                )
            )

    async def _shutdown(self) -> None:
        if self.control_api is not None:
            self.control_api.detach()
        await super()._shutdown()

    async def stop(self) -> None:
        if self.service is not None:
            await self.service.stopping()
        await super().stop()
        if self.control_api is not None:
            self.control_api.close()
            self.control_api = None
        if self.control_server is not None:
            await self.control_server.close()
            self.control_server = None
        if self.status_page is not None:
            await self.status_page.close()
            self.status_page = None
        for unhook in self._hooks:
            unhook()
        self._hooks = []
