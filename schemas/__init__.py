"""The project's own JSON schemas (config file, device-model definitions, control API)."""
