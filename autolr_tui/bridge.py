"""From the engine's event bus to the app's message queue, without ever blocking the engine.

Engine events arrive on a bus delivery thread and are posted to the app with
``post_message`` (thread-safe, non-blocking). Epoch events are coalesced: they
are buffered, and one ``EpochsReady`` wakes the app however many arrived; the
app drains the buffer when it gets to it.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from textual.message import Message

from engine.events import EpochEnded, Event


class EngineEvent(Message):
    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class EpochsReady(Message):
    pass


class Bridge:
    def __init__(self, app, keep: int = 2000) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._epochs: deque[tuple[float, EpochEnded]] = deque(maxlen=keep)
        self._pending = False

    def __call__(self, event: Event) -> None:
        if isinstance(event, EpochEnded):
            with self._lock:
                self._epochs.append((time.perf_counter(), event))
                if self._pending:
                    return
                self._pending = True
            self.app.post_message(EpochsReady())
        else:
            self.app.post_message(EngineEvent(event))

    def drain(self) -> list[tuple[float, EpochEnded]]:
        """The buffered epoch events (with the time each arrived), oldest first."""
        with self._lock:
            items = list(self._epochs)
            self._epochs.clear()
            self._pending = False
        return items
