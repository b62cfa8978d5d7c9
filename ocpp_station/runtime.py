"""The station as an application runs it: the station core plus the local control API.

:class:`Station` serves the control socket of ``[control] socket`` (when configured) next to the
station core: the socket stays up across a reset (which restarts the core), and what
``monitor_variables`` asked for is kept across it too.
"""

from __future__ import annotations

from ocpp_station.control.api import CONTROL_TOPICS, ControlApi
from ocpp_station.control.server import ControlServer
from ocpp_station.station import StationCore


class Station(StationCore):
    control_server: ControlServer | None = None
    control_api: ControlApi | None = None

    async def start(self) -> None:
        await super().start()
        socket = self.config.control_socket
        if socket is not None and self.control_server is None:
            self.control_server = ControlServer(socket, topics=CONTROL_TOPICS, logger=self.log)
            await self.control_server.start()
            self.control_api = ControlApi(self, self.control_server)
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
