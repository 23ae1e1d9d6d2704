"""The paper's testing routine (section 4.3.2): retrain a policy and a baseline at full scale.

Each policy is trained ``repeats`` times on the routine split (52,500 training
and 7,500 validation images from the 60,000, tested on the official 10,000),
repeat r of every policy with the same seed, so the policy and the baseline
are compared on the same weights and data. Reported per policy: mean and std
of the best validation accuracy seen while training and of the test accuracy.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from .config import Config
from .evaluators import Evaluator
from .events import EpochRecord
from .policy import Policy
from .results import EvalResult

BASELINE = "0.01"  # the paper's baseline: constant 0.01


@dataclass
class RetestResult:
    label: str
    phenotype: str
    best_validation: list[float] = field(default_factory=list)
    test: list[float] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @staticmethod
    def _mean_std(values: list[float]) -> tuple[float, float]:
        if not values:
            return float("nan"), float("nan")
        return statistics.fmean(values), statistics.pstdev(values) if len(values) > 1 else 0.0

    @property
    def validation_stats(self) -> tuple[float, float]:
        return self._mean_std(self.best_validation)

    @property
    def test_stats(self) -> tuple[float, float]:
        return self._mean_std(self.test)

    def to_dict(self) -> dict:
        (vm, vs), (tm, ts) = self.validation_stats, self.test_stats
        return {"label": self.label, "phenotype": self.phenotype, "best_validation": self.best_validation,
                "test": self.test, "validation_mean": vm, "validation_std": vs, "test_mean": tm, "test_std": ts,
                "reasons": self.reasons}


def routine_config(cfg: Config) -> Config:
    return replace(cfg, data=replace(cfg.data, split="routine"))


def repeat_seed(master_seed: int, repeat: int) -> int:
    return int(np.random.SeedSequence([master_seed, 4320, repeat]).generate_state(1)[0])


def retest(cfg: Config, policies: dict[str, str], repeats: int, evaluator: Evaluator,
           on_epoch: Callable[[str, int, EpochRecord], bool],
           on_result: Callable[[str, int, EvalResult], None]) -> list[RetestResult]:
    """Train every policy ``repeats`` times; ``on_epoch`` returning False stops (results so far are kept)."""
    assert cfg.data.split == "routine", "retest runs on the routine split"
    t = cfg.training
    results = [RetestResult(label, text) for label, text in policies.items()]
    for r in range(repeats):
        seed = repeat_seed(cfg.experiment.seed, r)
        for res in results:
            rates = Policy.parse(res.phenotype).schedule(t.epochs, t.initial_lr)
            out = evaluator.evaluate(rates, seed, lambda rec, label=res.label: on_epoch(label, r, rec))
            if not out.final:
                return results
            on_result(res.label, r, out)
            res.best_validation.append(max((e.val_accuracy for e in out.epochs), default=0.0))
            res.test.append(out.fitness)
            if out.reason:
                res.reasons.append(out.reason)
    return results

