"""The optional live status page: one station (``[http] listen``) or a fleet (``fleet --http``).

Served by the ``websockets`` server (plain HTTP through ``process_request``): ``/`` is a static
page that updates itself over the websocket ``/ws``; ``/status.json`` is the control API's
``status`` result (for a fleet: the fleet summary and every station's ``status``)."""

from ocpp_station.http.frames import FrameStats, RecentFrames
from ocpp_station.http.pages import FleetPage, StationPage
from ocpp_station.http.server import PageServer, parse_listen

__all__ = ["FleetPage", "FrameStats", "PageServer", "RecentFrames", "StationPage", "parse_listen"]
