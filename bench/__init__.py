"""Benchmarks of ocpp-station (``python -m bench``; see docs/performance.md)."""
