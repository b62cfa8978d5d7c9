"""Firmware management (use cases L01, L02): UpdateFirmware, download, verification, install."""
