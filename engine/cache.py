"""The schedule cache: two policies with the same rate at every epoch are the same policy."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .config import Config, digest
from .policy import schedule_key
from .results import EvalResult

if TYPE_CHECKING:
    from .store import Store


def training_digest(cfg: Config) -> str:
    """Everything besides the schedule and the run seed that changes what a training gives."""
    d = cfg.to_dict()
    d["data"].pop("dir")  # where the files are does not change them
    return digest({"data": d["data"], "training": d["training"], "dry_run": cfg.dry_run})


class ScheduleCache:
    """Results by schedule: two policies with the same rate at every epoch are trained once.

    Kept in memory and, with a store, read through from it, so results persist across restarts.
    """

    def __init__(self, settings_digest: str, store: "Store | None" = None):
        self.settings = settings_digest.encode()
        self.store = store
        self._results: dict[bytes, EvalResult] = {}

    def key(self, rates: np.ndarray, seed: int) -> bytes:
        return self.settings + seed.to_bytes(8, "little") + schedule_key(rates)

    def get(self, key: bytes) -> EvalResult | None:
        result = self._results.get(key)
        if result is None and self.store is not None:
            result = self.store.cached(key)
            if result is not None:
                self._results[key] = result
        return result

    def put(self, key: bytes, result: EvalResult) -> None:
        self._results[key] = result
