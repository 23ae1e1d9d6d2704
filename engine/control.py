"""Pause and stop requests from any thread, honoured at epoch boundaries."""

from __future__ import annotations

import threading


class Control:
    def __init__(self) -> None:
        self._running = threading.Event()
        self._running.set()
        self._stop = threading.Event()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def checkpoint(self) -> bool:
        """Block while paused; then True to go on, False when a stop was asked."""
        self._running.wait()
        return not self._stop.is_set()
