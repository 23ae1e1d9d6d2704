"""The dry-run fitness: a cheap stand-in for training, computed from the schedule alone.

Gradient descent on a fixed ill-conditioned quadratic (curvatures 1..25, 20
steps an epoch) plus a noise floor proportional to the rate, as SGD has. Rates
above 0.08 diverge, small rates learn slowly, and a decaying schedule wins, so
the search has something real to find. It is labelled "dry-run" wherever it is
shown; it says nothing about a real network.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from .config import TrainingConfig
from .events import EpochRecord
from .results import EvalResult

CURVATURES = np.geomspace(1.0, 25.0, 8)
STEPS_PER_EPOCH = 20
NOISE = 0.5
LABEL = "dry-run surrogate (no training)"


def _score(loss: float) -> float:
    return float(np.exp(-10.0 * loss))


def surrogate_training(rates: np.ndarray, training: TrainingConfig,
                       on_epoch: Callable[[EpochRecord], bool]) -> EvalResult:
    """Run the surrogate over ``rates`` (epochs 1..E); ``on_epoch`` returning False stops it."""
    start = time.perf_counter()
    x = np.ones_like(CURVATURES)
    records: list[EpochRecord] = []
    best, since_best = np.inf, 0
    with np.errstate(over="ignore", invalid="ignore"):
        for e, lr in enumerate(rates, start=1):
            t = time.perf_counter()
            x = x * (1.0 - float(lr) * CURVATURES) ** STEPS_PER_EPOCH
            loss = float(np.mean(CURVATURES * x * x) / 2 + NOISE * float(lr))
            if not np.isfinite(loss) or loss > 1e6:
                return EvalResult(0.0, f"diverged at epoch {e} (surrogate loss {loss:.3g})", tuple(records),
                                  time.perf_counter() - start, None, "diverged")
            rec = EpochRecord(e, float(lr), loss, _score(loss), loss, _score(loss), time.perf_counter() - t)
            records.append(rec)
            if loss < best:
                best, since_best = loss, 0
            else:
                since_best += 1
            if not on_epoch(rec):
                return EvalResult(0.0, "stopped", tuple(records), time.perf_counter() - start, None, "stopped")
            if training.early_stop and since_best >= training.patience and e < len(rates):
                final = best if training.restore_best_weights else loss
                return EvalResult(_score(final), None, tuple(records), time.perf_counter() - start, e, "ok")
    return EvalResult(_score(records[-1].loss), None, tuple(records), time.perf_counter() - start, None, "ok")
