"""The station as an application runs it: the station core plus the local control API.

:class:`Station` serves the control socket of ``[control] socket`` (when configured) next to the
station core: the socket stays up across a reset (which restarts the core), and what
``monitor_variables`` asked for is kept across it too.  A socket path that is a directory, a file
or the live socket of another running station ends the start (``SocketPathError``, one line);
only a stale socket is replaced.
"""

from __future__ import annotations

from ocpp_station.control.api import CONTROL_TOPICS, ControlApi
from ocpp_station.control.server import ControlServer
from ocpp_station.station import StationCore


class Station(StationCore):
    control_server: ControlServer | None = None
    control_api: ControlApi | None = None

    async def start(self) -> None:
        socket = self.config.control_socket
        fresh: ControlServer | None = None
        if socket is not None and self.control_server is None:
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
            self.control_server = fresh
            self.control_api = ControlApi(self, fresh)
        if self.control_api is not None:
            self.control_api.attach()

    async def _shutdown(self) -> None:
        if self.control_api is not None:
            self.control_api.detach()
        await super()._shutdown()

    async def stop(self) -> None:
        await super().stop()
        if self.control_api is not None:
            self.control_api.close()
            self.control_api = None
        if self.control_server is not None:
            await self.control_server.close()
            self.control_server = None
