"""The display interface: what the station shows, handed to the HAL or the embedding application.

A display receives the whole list of lines to show each time it changes, most urgent first
(``AlwaysFront``, then ``InFront``, then ``NormalCycle``; the display decides how to cycle the
``NormalCycle`` ones).  Each line is a dict with ``id``, ``source`` (``DisplayMessage`` for a
message of the CSMS, ``PersonalMessage``, ``Cost`` or ``Fallback`` for the tariff and cost lines),
``priority``, ``format``, ``language`` (when known), ``content`` and, when the line belongs to a
transaction, ``transactionId``.
"""

from __future__ import annotations

from typing import Any, Protocol, cast, runtime_checkable


@runtime_checkable
class Display(Protocol):
    def show(self, lines: list[dict[str, Any]]) -> None:
        """Show these lines (replacing what was shown before)."""


class NoDisplay:
    """A station without a display: nothing is shown (the control API still publishes)."""

    def show(self, lines: list[dict[str, Any]]) -> None:
        return None


def display_of(controller: object) -> Display:
    """The display capability of a charge controller (its ``display`` attribute when that
    implements :class:`Display`), else no display."""
    display = getattr(controller, "display", None)
    # what isinstance(display, Display) checks, without the runtime Protocol's slow machinery
    if callable(getattr(display, "show", None)):
        return cast(Display, display)
    return NoDisplay()
