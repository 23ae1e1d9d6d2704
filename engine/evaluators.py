"""Evaluators: where a schedule's fitness is computed.

All share one call: ``evaluate(rates, seed, on_epoch) -> EvalResult``: train
from the run's ``seed`` (initial weights, data split) under ``rates``, where
``on_epoch(record)`` is called at every epoch boundary, in one of the engine's threads, and
returns False to stop the training (it blocks while the run is paused).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from .config import Config
from .events import EpochRecord
from .results import EvalResult
from .surrogate import LABEL as SURROGATE_LABEL
from .surrogate import surrogate_training

OnEpoch = Callable[[EpochRecord], bool]


@runtime_checkable
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


TRAINED_LABEL = "test accuracy after training"


class EvaluatorError(RuntimeError):
    """An evaluator that cannot work at all (no data, a worker that cannot start); one line."""


class InlineEvaluator:
    """Trains in the calling thread (tests, debugging). TensorFlow's output is not redirected."""

    label = TRAINED_LABEL

    def __init__(self, cfg: Config):
        self.cfg = cfg
        self._trainer = None

    def evaluate(self, rates: np.ndarray, seed: int, on_epoch: OnEpoch) -> EvalResult:
        if self._trainer is None:
            from .training import Trainer, configure_tensorflow

            configure_tensorflow()
            self._trainer = Trainer(self.cfg)
        return self._trainer.train(rates, seed, on_epoch)

    def close(self) -> None:
        self._trainer = None


class _WorkerDied(Exception):
    pass


class ProcessEvaluator:
    """Trains in a worker process that keeps its model built and its data loaded.

    A worker that dies (killed, out of memory) is restarted and the evaluation
    retried once, then recorded as failed. ``cancel()`` kills it at once.
    """

    label = TRAINED_LABEL

    def __init__(self, cfg: Config, index: int = 0, gpu: str | None = None):
        self.cfg, self.gpu = cfg, gpu
        self.log_path = Path(cfg.output.dir) / "logs" / f"worker-{index}.log"
        self._proc: multiprocessing.process.BaseProcess | None = None
        self._conn = None
        self._cancelled = threading.Event()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.is_alive() else None

    def _start(self) -> None:
        from .worker import worker_main

        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=worker_main, args=(child, self.cfg, str(self.log_path), self.gpu),
                                 name="autolr-worker", daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent
        while not parent.poll(0.1):
            if self._cancelled.is_set() or not self._proc.is_alive():
                code = self._proc.exitcode
                self._kill()
                if self._cancelled.is_set():
                    raise _WorkerDied("cancelled")
                raise EvaluatorError(f"the worker exited with code {code} while starting (see {self.log_path})")
        try:
            msg = parent.recv()
        except (EOFError, OSError):
            self._proc.join(1.0)
            code = self._proc.exitcode
            self._kill()
            raise EvaluatorError(f"the worker exited with code {code} while starting (see {self.log_path})") from None
        if msg[0] == "error":
            self._kill()
            raise EvaluatorError(msg[1])

    def _follow(self, on_epoch: OnEpoch) -> EvalResult:
        assert self._conn is not None and self._proc is not None
        while True:
            if self._conn.poll(0.1):
                try:
                    kind, payload = self._conn.recv()
                except (EOFError, OSError):
                    raise _WorkerDied(self._death()) from None
                if kind == "result":
                    return payload
                go_on = on_epoch(payload)
                try:
                    self._conn.send(go_on)
                except OSError:
                    raise _WorkerDied(self._death()) from None
            elif not self._proc.is_alive():
                raise _WorkerDied(self._death())

    def _death(self) -> str:
        assert self._proc is not None
        self._proc.join(1.0)
        return "cancelled" if self._cancelled.is_set() else f"exit code {self._proc.exitcode}"

    def evaluate(self, rates: np.ndarray, seed: int, on_epoch: OnEpoch) -> EvalResult:
        why = ""
        for _attempt in range(2):
            try:
                if self.pid is None:
                    self._start()
                self._conn.send(("train", np.asarray(rates, dtype=np.float32), seed))
                return self._follow(on_epoch)
            except _WorkerDied as died:
                self._kill()
                if self._cancelled.is_set():
                    self._cancelled.clear()
                    return EvalResult(0.0, "stopped", (), 0.0, None, "stopped")
                why = str(died)
        return EvalResult(0.0, f"the worker died twice ({why}; see {self.log_path})", (), 0.0, None, "failed")

    def cancel(self) -> None:
        """End the current training now by killing the worker (a stop that cannot wait for the epoch)."""
        self._cancelled.set()
        if self._proc is not None and self._proc.is_alive():
            self._proc.kill()

    def _kill(self) -> None:
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.kill()
            self._proc.join(5)
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None

    def close(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            try:
                self._conn.send(("close",))
                self._proc.join(5)
            except OSError:
                pass
        self._kill()


def prepare_worker_processes() -> None:
    """Start multiprocessing's resource tracker now, from the main thread with the real stderr.

    Call before a UI replaces sys.stderr: the tracker is started with the stderr file descriptor, and a
    stand-in stderr (fileno -1) makes every later worker start fail ("bad value(s) in fds_to_keep").
    """
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()


def visible_gpus() -> list[str]:
    """GPU ids this machine shows: $CUDA_VISIBLE_DEVICES when set, else nvidia-smi's list."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [g for g in env.split(",") if g.strip() and g.strip() != "-1"]
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(out.splitlines()) if line.startswith("GPU ")]


def make_evaluators(cfg: Config) -> list[Evaluator]:
    """The evaluators the config asks for: trainings run on them in parallel.

    process: ``evaluator.workers`` worker processes (0: one per visible GPU, one without a GPU), each
    given one GPU in turn through CUDA_VISIBLE_DEVICES. ray: as many actors, counting the cluster's
    GPUs. inline and dryrun: one.
    """
    backend = cfg.evaluator.backend
    if backend == "dryrun":
        return [DryRunEvaluator(cfg)]
    if backend == "inline":
        return [InlineEvaluator(cfg)]
    if backend == "ray":
        from .ray_backend import ray_evaluators

        return ray_evaluators(cfg)
    gpus = visible_gpus()
    workers = cfg.evaluator.workers or max(1, len(gpus))
    return [ProcessEvaluator(cfg, i, gpus[i % len(gpus)] if gpus else None) for i in range(workers)]
