"""Diagnostics (use case N01): GetLog, log upload and the station's own diagnostics log."""
