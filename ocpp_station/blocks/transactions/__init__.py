"""Transactions (E01-E14, F01-F03, F05, J01-J02): the per-EVSE engine, meter values, remote."""
