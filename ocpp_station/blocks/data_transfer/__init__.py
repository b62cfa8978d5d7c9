"""data transfer (P01, P02)"""
