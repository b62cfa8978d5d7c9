"""local authorization list (D01-D04)"""
