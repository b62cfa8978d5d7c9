"""authorization"""
