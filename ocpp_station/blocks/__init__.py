"""The functional blocks of OCPP 2.0.1 the station implements, one package each."""
