"""The schedule cache: two policies with the same rate at every epoch are the same policy."""

from __future__ import annotations

import numpy as np

from .config import Config, digest
from .policy import schedule_key
from .results import EvalResult


def training_digest(cfg: Config) -> str:
    """Everything besides the schedule and the run seed that changes what a training gives."""
    d = cfg.to_dict()
    d["data"].pop("dir")  # where the files are does not change them
    return digest({"data": d["data"], "training": d["training"], "dry_run": cfg.dry_run})


class ScheduleCache:
    """Results by schedule: two policies with the same rate at every epoch are trained once."""

    def __init__(self, settings_digest: str):
        self.settings = settings_digest
        self._results: dict[tuple[bytes, int], EvalResult] = {}

    def key(self, rates: np.ndarray, seed: int) -> tuple[bytes, int]:
        return (schedule_key(rates) + self.settings.encode(), seed)

    def get(self, key: tuple[bytes, int]) -> EvalResult | None:
        return self._results.get(key)

    def put(self, key: tuple[bytes, int], result: EvalResult) -> None:
        self._results[key] = result
