"""Display messages (O01-O06): SetDisplayMessage, GetDisplayMessages, ClearDisplayMessage, and
what the station shows through its display interface."""
