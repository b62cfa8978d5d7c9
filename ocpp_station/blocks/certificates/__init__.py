"""Certificate management: the certificate store (M03, M04, M05)."""
