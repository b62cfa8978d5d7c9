"""The optional live status page: one station (``[http] listen``) or a fleet (``fleet --http``).

Served by the ``websockets`` server (plain HTTP through ``process_request``): ``/`` is a static
page that updates itself over the websocket ``/ws``; ``/status.json`` is the control API's
``status`` result (for a fleet: the fleet summary and every station's ``status``)."""
