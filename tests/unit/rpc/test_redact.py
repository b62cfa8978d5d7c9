"""C04.FR.04: KeyCode tokens never reach a log - the pure masking helpers."""

from __future__ import annotations

import json

from hal.types import IdTokenPresented
from ocpp_station.redact import MASK, redact, redact_frame, token_text

PIN = "731904"


def test_token_text() -> None:
    assert token_text({"idToken": PIN, "type": "KeyCode"}) == f"KeyCode:{MASK}"
    assert token_text({"idToken": "04A1", "type": "ISO14443"}) == "ISO14443:04A1"


def test_redact_masks_every_keycode_token_deep() -> None:
    payload = {
        "idToken": {"idToken": PIN, "type": "KeyCode"},
        "list": [{"idTokenInfo": {"groupIdToken": {"idToken": PIN, "type": "KeyCode"}}}],
        "other": {"idToken": "04A1", "type": "ISO14443"},
    }
    out = redact(payload)
    assert PIN not in json.dumps(out)
    assert out["other"] == {"idToken": "04A1", "type": "ISO14443"}
    assert payload["idToken"]["idToken"] == PIN  # the original is left alone


def test_redact_frame() -> None:
    call = json.dumps([2, "m1", "Authorize", {"idToken": {"idToken": PIN, "type": "KeyCode"}}])
    shown = redact_frame(call)
    assert PIN not in shown
    assert json.loads(shown)[3]["idToken"] == {"idToken": MASK, "type": "KeyCode"}
    plain = json.dumps([2, "m2", "Authorize", {"idToken": {"idToken": "X", "type": "Local"}}])
    assert redact_frame(plain) is plain  # nothing to mask: the very text
    broken = '[2, "m3", "Authorize", {"idToken": {"idToken": "' + PIN + '", "type": "KeyCode"'
    assert PIN not in redact_frame(broken)


def test_hal_event_repr_masks_a_pin() -> None:
    """Events are logged with %r (e.g. when a block fails on one)."""
    assert PIN not in repr(IdTokenPresented(1, PIN, "KeyCode"))
    assert "04A1" in repr(IdTokenPresented(1, "04A1", "ISO14443"))
    assert IdTokenPresented(1, PIN, "KeyCode").id_token == PIN  # the value itself is intact
