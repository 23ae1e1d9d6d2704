"""The outcome of one evaluation (one training of one schedule)."""

from __future__ import annotations

from dataclasses import dataclass

from .events import EpochRecord

# status: ok (trained; fitness is test accuracy), diverged (NaN/inf loss; floor fitness),
# failed (the worker died twice), stopped (a stop ended it; not a result, retrained on resume)
STATUSES = ("ok", "diverged", "failed", "stopped")


@dataclass(frozen=True)
class EvalResult:
    fitness: float
    reason: str | None
    epochs: tuple[EpochRecord, ...]
    seconds: float
    stopped_epoch: int | None  # epoch where early stopping ended the training
    status: str = "ok"

    @property
    def final(self) -> bool:
        """Whether this is a result to keep (a stopped training is not)."""
        return self.status != "stopped"
