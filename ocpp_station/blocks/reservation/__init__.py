"""reservation (H01-H04)"""
