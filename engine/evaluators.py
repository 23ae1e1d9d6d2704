"""Evaluators: where a schedule's fitness is computed.

All share one call: ``evaluate(rates, seed, on_epoch) -> EvalResult``: train
from the run's ``seed`` (initial weights, data split) under ``rates``, where
``on_epoch(record)`` is called at every epoch boundary in the engine thread and
returns False to stop the training (it blocks while the run is paused).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from .config import Config
from .events import EpochRecord
from .results import EvalResult
from .surrogate import LABEL as SURROGATE_LABEL
from .surrogate import surrogate_training

OnEpoch = Callable[[EpochRecord], bool]


class Evaluator(Protocol):
    label: str  # what the fitness means, shown wherever fitness is shown

    def evaluate(self, rates: np.ndarray, seed: int, on_epoch: OnEpoch) -> EvalResult: ...

    def close(self) -> None: ...


class DryRunEvaluator:
    label = SURROGATE_LABEL

    def __init__(self, cfg: Config):
        self.training = cfg.training

    def evaluate(self, rates: np.ndarray, seed: int, on_epoch: OnEpoch) -> EvalResult:
        return surrogate_training(rates, self.training, on_epoch)

    def close(self) -> None:
        pass


def make_evaluator(cfg: Config) -> Evaluator:
    """The evaluator the config asks for."""
    backend = cfg.evaluator.backend
    if backend == "dryrun":
        return DryRunEvaluator(cfg)
    raise NotImplementedError(f"evaluator.backend = {backend!r} is not available yet")
