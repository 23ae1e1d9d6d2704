"""The Ray backend: trainings on Ray actors, one per GPU of the cluster, each keeping its model and data.

``evaluator.ray_address``: "" starts a local Ray instance on this machine,
"auto" joins the cluster this machine belongs to, "host:port" a given one.
Per-epoch progress comes back over two Ray queues per actor, and the actor
waits for the engine's go-ahead at every epoch boundary, so pause and stop
work exactly as with worker processes. An actor that dies is replaced and the
evaluation retried once, then recorded as failed. Actors' output stays in
Ray's logs (``log_to_driver`` is off), never on the terminal.

Every node must find Fashion-MNIST: ``data.dir`` on that node,
``$AUTOLR_DATA_DIR`` (passed on from the driver), or the node's Keras cache.
"""

from __future__ import annotations

import logging
import os
import threading

import numpy as np

from .config import Config
from .evaluators import TRAINED_LABEL, EvaluatorError
from .events import EpochRecord
from .results import EvalResult


class _TrainerActor:
    """Runs on a Ray worker: builds the Trainer once, then trains schedule after schedule."""

    def __init__(self, cfg: Config):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
        self.error: str | None = None
        try:
            from .training import Trainer, configure_tensorflow

            configure_tensorflow()
            self.trainer = Trainer(cfg)
        except Exception as exc:  # reported by ready(), as one line
            self.error = str(exc) if type(exc).__name__ == "DataError" else f"{type(exc).__name__}: {exc}"

    def ready(self) -> str | None:
        return self.error

    def pid(self) -> int:
        return os.getpid()

    def train(self, rates: np.ndarray, seed: int, to_driver, to_actor) -> EvalResult:
        def on_epoch(record: EpochRecord) -> bool:
            to_driver.put(record)
            return bool(to_actor.get())

        return self.trainer.train(rates, seed, on_epoch)


class RaySession:
    """ray.init once for all the evaluators of an engine; ray.shutdown when the last one closes."""

    def __init__(self, cfg: Config):
        try:
            import ray
        except ImportError:
            raise EvaluatorError("evaluator.backend = ray needs Ray: pip install 'autolr-tui[ray]'") from None
        self.ray = ray
        self.started = not ray.is_initialized()
        if self.started:
            env = {k: os.environ[k] for k in ("AUTOLR_DATA_DIR", "KERAS_HOME") if k in os.environ}
            env["TF_CPP_MIN_LOG_LEVEL"] = "1"
            ray.init(address=cfg.evaluator.ray_address or None, include_dashboard=False, log_to_driver=False,
                     logging_level=logging.ERROR, runtime_env={"env_vars": env})
        self.actor_class = ray.remote(_TrainerActor)
        self.users = 0

    @property
    def gpus(self) -> int:
        return int(self.ray.cluster_resources().get("GPU", 0))

    def release(self) -> None:
        self.users -= 1
        if self.users == 0 and self.started and self.ray.is_initialized():
            self.ray.shutdown()


class RayEvaluator:
    label = TRAINED_LABEL

    def __init__(self, cfg: Config, session: RaySession, gpu: bool):
        self.cfg, self.session = cfg, session
        self.options = {"num_gpus": 1, "num_cpus": 1} if gpu else {"num_cpus": 1}
        self._actor = None
        self._queues = None
        self._cancelled = threading.Event()
        session.users += 1

    @property
    def actor(self):
        return self._actor

    def _start(self) -> None:
        from ray.util.queue import Queue

        ray = self.session.ray
        self._queues = (Queue(), Queue())
        self._actor = self.session.actor_class.options(**self.options).remote(self.cfg)
        error = ray.get(self._actor.ready.remote())
        if error:
            self._kill()
            raise EvaluatorError(f"a Ray worker could not start: {error}")

    def _follow(self, ref, on_epoch) -> EvalResult:
        from ray.util.queue import Empty

        ray = self.session.ray
        to_driver, to_actor = self._queues
        while True:
            try:
                record = to_driver.get(block=True, timeout=0.05)
            except Empty:
                done, _ = ray.wait([ref], timeout=0)
                if done:
                    return ray.get(ref)
                continue
            to_actor.put(bool(on_epoch(record)))

    def evaluate(self, rates: np.ndarray, seed: int, on_epoch) -> EvalResult:
        from ray.exceptions import RayActorError, WorkerCrashedError

        why = ""
        for _attempt in range(2):
            try:
                if self._actor is None:
                    self._start()
                ref = self._actor.train.remote(np.asarray(rates, np.float32), seed, *self._queues)
                return self._follow(ref, on_epoch)
            except (RayActorError, WorkerCrashedError) as exc:
                self._kill()
                if self._cancelled.is_set():
                    self._cancelled.clear()
                    return EvalResult(0.0, "stopped", (), 0.0, None, "stopped")
                why = type(exc).__name__
        return EvalResult(0.0, f"the Ray worker died twice ({why}; see Ray's logs)", (), 0.0, None, "failed")

    def cancel(self) -> None:
        self._cancelled.set()
        if self._actor is not None:
            self.session.ray.kill(self._actor)

    def _kill(self) -> None:
        if self._actor is not None:
            self.session.ray.kill(self._actor)
        if self._queues is not None:
            for q in self._queues:
                q.shutdown()
        self._actor = self._queues = None

    def close(self) -> None:
        if self.session.ray.is_initialized():
            self._kill()
        self.session.release()


def ray_evaluators(cfg: Config) -> list[RayEvaluator]:
    """One evaluator per GPU of the cluster (``evaluator.workers`` to choose), one without GPUs."""
    session = RaySession(cfg)
    gpus = session.gpus
    workers = cfg.evaluator.workers or max(1, gpus)
    return [RayEvaluator(cfg, session, gpu=gpus > 0) for _ in range(workers)]
