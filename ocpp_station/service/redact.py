"""Secrets out of every text we show: log lines at any level and the status page's frames.

What is a secret here: the HTTP Basic-auth password (``[station] password``, or the one a CSMS set
through ``SecurityCtrlr.BasicAuthPassword``, A01) and the ``Authorization`` header that carries it
(the websockets library logs the handshake headers at DEBUG).  :func:`redact` masks

- the value of any ``Authorization:`` / ``Proxy-Authorization:`` header (the scheme stays);
- every ``attributeValue`` (or ``attribute_value``) of a text that names ``BasicAuthPassword``
  (a SetVariablesRequest frame, a control-API call);
- each literal secret it is given (the configured password and its Basic token).

Pure functions: the logging formatters and the status page call them on the finished text.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable

__all__ = ["MASK", "basic_token", "redact"]

MASK = "***"

_AUTH_HEADER = re.compile(
    r"(?i)\b((?:proxy-)?authorization[\"']?\s*[:=,]\s*[\"']?)((?:basic|bearer|digest)\s+)?"
    r"[^\s,'\"\]\)]+"
)
_ATTRIBUTE_VALUE = re.compile(r"""(["']attribute_?[vV]alue["']\s*:\s*)(["'])(?:\\.|(?!\2).)*\2""")


def basic_token(user: str, password: str) -> str:
    """The base64 of ``user:password``: what ``Authorization: Basic`` carries."""
    return base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret it holds replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4 and secret in text:
            text = text.replace(secret, MASK)
    if "uthorization" in text or "UTHORIZATION" in text:
        text = _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2) or ''}{MASK}", text)
    if "BasicAuthPassword" in text:
        text = _ATTRIBUTE_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}{m.group(2)}", text)
    return text
