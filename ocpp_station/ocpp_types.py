"""Small OCPP 2.0.1 data-type helpers shared by every layer above the RPC framing."""

from __future__ import annotations

from typing import Any

REASON_CODE_MAX = 20  # StatusInfoType.reasonCode: string[0..20]
ADDITIONAL_INFO_MAX = 512  # StatusInfoType.additionalInfo: string[0..512]


def status_info(reason: str, info: str | None = None) -> dict[str, Any]:
    """A StatusInfoType, cut to the lengths the schema allows."""
    out: dict[str, Any] = {"reasonCode": reason[:REASON_CODE_MAX]}
    if info:
        out["additionalInfo"] = info[:ADDITIONAL_INFO_MAX]
    return out
