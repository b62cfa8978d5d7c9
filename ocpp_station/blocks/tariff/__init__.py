"""Tariff and cost (I01-I06): the driver's tariff and personal messages, the running and total
cost, CostUpdated, the fallback messages while offline; shown through the display block."""
