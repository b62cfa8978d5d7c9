"""Monitoring and events (N02-N08): variable monitors set by the CSMS or predefined, their
NotifyEvents, the monitoring report, base and level; the values the charge controller reports
as device-model Actual values so that monitors see them; the ``event_data`` publications."""
