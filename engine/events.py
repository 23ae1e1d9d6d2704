"""Immutable events the engine emits, and the bus that delivers them.

Each subscriber gets its own queue and delivery thread, so one that is slow or
raises never stalls or kills the engine; events reach every subscriber in the
order they were emitted.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EpochRecord:
    """One epoch of one training (1-based epoch)."""

    epoch: int
    lr: float
    loss: float
    accuracy: float
    val_loss: float
    val_accuracy: float
    seconds: float


@dataclass(frozen=True)
class Event:
    pass


@dataclass(frozen=True)
class RunStarted(Event):
    run: int
    seed: int
    generations: int
    population: int
    dry_run: bool
    resumed_at: int | None = None  # generation a resumed run continues from


@dataclass(frozen=True)
class GenerationStarted(Event):
    run: int
    generation: int
    phenotypes: tuple[str, ...]


@dataclass(frozen=True)
class EvaluationStarted(Event):
    run: int
    generation: int
    index: int
    phenotype: str


@dataclass(frozen=True)
class EpochEnded(Event):
    run: int
    generation: int
    index: int
    record: EpochRecord


@dataclass(frozen=True)
class EvaluationFinished(Event):
    run: int
    generation: int
    index: int
    phenotype: str
    fitness: float
    reason: str | None
    cache_hit: bool
    seconds: float
    epochs_trained: int
    stopped_epoch: int | None  # epoch where early stopping ended the training


@dataclass(frozen=True)
class GenerationFinished(Event):
    run: int
    generation: int
    best_fitness: float
    mean_fitness: float
    best_phenotype: str


@dataclass(frozen=True)
class RunPaused(Event):
    run: int


@dataclass(frozen=True)
class RunResumed(Event):
    run: int


@dataclass(frozen=True)
class RunFinished(Event):
    run: int
    best_phenotype: str
    best_fitness: float
    generations_done: int
    stopped: bool  # True when a stop ended it before its last generation


@dataclass(frozen=True)
class RunFailed(Event):
    run: int
    error: str


@dataclass(frozen=True)
class Log(Event):
    message: str
    level: str = "info"


Subscriber = Callable[[Event], None]
_CLOSE = object()


@dataclass
class _Delivery:
    fn: Subscriber
    queue: "queue.SimpleQueue[object]" = field(default_factory=queue.SimpleQueue)
    thread: threading.Thread | None = None

    def loop(self) -> None:
        while (item := self.queue.get()) is not _CLOSE:
            try:
                self.fn(item)  # type: ignore[arg-type]
            except Exception:  # a broken subscriber must not take the engine down
                log.exception("event subscriber %r failed on %r", self.fn, item)


class EventBus:
    def __init__(self) -> None:
        self._deliveries: list[_Delivery] = []
        self._lock = threading.Lock()

    def subscribe(self, fn: Subscriber) -> None:
        d = _Delivery(fn)
        d.thread = threading.Thread(target=d.loop, name=f"events->{getattr(fn, '__name__', fn)}", daemon=True)
        d.thread.start()
        with self._lock:
            self._deliveries.append(d)

    def emit(self, event: Event) -> None:
        with self._lock:
            for d in self._deliveries:
                d.queue.put(event)

    def close(self, timeout: float | None = 10.0) -> None:
        """Deliver what is queued, then end the delivery threads."""
        with self._lock:
            deliveries, self._deliveries = self._deliveries, []
        for d in deliveries:
            d.queue.put(_CLOSE)
        for d in deliveries:
            if d.thread is not None:
                d.thread.join(timeout)
