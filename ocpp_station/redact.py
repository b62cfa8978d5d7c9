"""Keep PIN codes out of logs: C04.FR.04 says an idToken of type KeyCode never appears in any
logging.  Pure helpers for whatever writes tokens or raw OCPP frames to a log or a trace."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

MASK = "***"
SECRET_TYPES = frozenset({"KeyCode"})
# an idToken string value in (a piece of) JSON text, also inside a repr with escaped quotes
_ID_TOKEN_VALUE = re.compile(r'(\\?"idToken\\?"\s*:\s*\\?")[^"\\]*')
ELISION = "..."  # how websockets shortens a long frame in its debug log


def token_text(id_token: Mapping[str, Any]) -> str:
    """An IdTokenType for a log line: ``type:idToken``, the value masked for a KeyCode."""
    kind = str(id_token.get("type", ""))
    value = MASK if kind in SECRET_TYPES else str(id_token.get("idToken", ""))
    return f"{kind}:{value}"


def redact(value: Any) -> Any:
    """A copy of a JSON value with the ``idToken`` of every KeyCode IdTokenType masked."""
    if isinstance(value, list):
        return [redact(item) for item in value]
    if not isinstance(value, Mapping):
        return value
    out = {k: redact(v) for k, v in value.items()}
    if out.get("type") in SECRET_TYPES and "idToken" in out:
        out["idToken"] = MASK
    return out


def redact_frame(text: str) -> str:
    """An OCPP-J frame (JSON text) with KeyCode tokens masked; frames without one, and text that
    is not JSON but names KeyCode (masked whole), come back as they must be shown."""
    if "KeyCode" not in text:
        return text
    try:
        frame = json.loads(text)
    except ValueError:
        return f"(frame of {len(text)} characters with a KeyCode token, not shown)"
    return json.dumps(redact(frame), separators=(",", ":"), ensure_ascii=False)
