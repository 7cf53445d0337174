"""What a screen reader should say without the user moving to it: a restore that finished, a
notice that appeared, the fidelity the slider now stands at.

Orca and NVDA speak the focused control and its changes; a label changing elsewhere in the window
(the status bar's "Last run", a banner over the photo) goes unsaid (screen-reader QA: a blind user
was never told that a restore finished, or that a photo could not be opened). Qt 6.8's
announcement event has the screen reader say a text at once, after what it is saying
("polite") or interrupting it ("assertive", for errors).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent
from PySide6.QtWidgets import QWidget

#: How long keys moving a value (the fidelity slider, the before/after divider) rest before a screen
#: reader is told the value they reached (ms): each step of a held key was queued, 15 in a row.
SAY_AFTER_MS = 400


def announce(widget: QWidget, text: str, *, urgent: bool = False) -> None:
    """Have a screen reader, if one is running, say ``text`` on behalf of ``widget`` (shown, in the
    window that says it); ``urgent`` interrupts what it is saying (an error)."""
    if not text:
        return
    event = QAccessibleAnnouncementEvent(widget, text)
    event.setPoliteness(QAccessible.AnnouncementPoliteness.Assertive if urgent
                        else QAccessible.AnnouncementPoliteness.Polite)
    QAccessible.updateAccessibility(event)


def when_keys_rest(parent: QWidget, say: Callable[[], None]) -> QTimer:
    """A timer that calls ``say`` :data:`SAY_AFTER_MS` after it was last started: start it at each
    key's move, and a screen reader is told the value once, where the keys rest."""
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(SAY_AFTER_MS)
    timer.timeout.connect(say)
    return timer
