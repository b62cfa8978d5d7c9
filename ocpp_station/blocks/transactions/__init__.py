"""Transactions (E01-E15, F01-F05, J01-J02): the per-EVSE engine, meter values, remote control."""
