"""One evaluation: train the network under a schedule and measure test accuracy.

Imports Keras: runs in worker processes (or inline in tests). The model is
built and compiled once per Trainer; each evaluation resets it to the run's
initial weights and a fresh optimizer state, so the schedule is the only thing
that differs between the individuals of a run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import keras
import numpy as np

from . import models
from .config import Config
from .data import RawData, Splits, load_raw, make_splits, routine_splits
from .events import EpochRecord
from .policy import paper_epoch
from .results import EvalResult


# A loss above this (cross-entropy of a uniform guess is ln 10 = 2.3) means the training blew up.
DIVERGED_LOSS = 1e4


def configure_tensorflow() -> None:
    """Deterministic ops, and GPU memory that grows instead of being taken whole."""
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    for gpu in tf.config.list_physical_devices("GPU"):
        tf.config.experimental.set_memory_growth(gpu, True)


class _EpochHook(keras.callbacks.Callback):
    """Sets each epoch's rate, records it, stops on NaN/inf loss or when ``on_epoch`` says so."""

    def __init__(self, rates: np.ndarray, on_epoch: Callable[[EpochRecord], bool]):
        super().__init__()
        self.rates, self.on_epoch = rates, on_epoch
        self.records: list[EpochRecord] = []
        self.diverged: str | None = None
        self.stopped = False

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self.model.optimizer.learning_rate.assign(float(self.rates[epoch]))
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = logs or {}
        rec = EpochRecord(paper_epoch(epoch), float(self.rates[epoch]), float(logs.get("loss", math.nan)),
                          float(logs.get("accuracy", math.nan)), float(logs.get("val_loss", math.nan)),
                          float(logs.get("val_accuracy", math.nan)), time.perf_counter() - self._start)
        self.records.append(rec)
        if not (abs(rec.loss) <= DIVERGED_LOSS and abs(rec.val_loss) <= DIVERGED_LOSS):  # NaN fails too
            self.diverged = f"loss became {rec.loss:.4g} at epoch {rec.epoch} (rate {rec.lr:.6g})"
            self.model.stop_training = True
        elif not self.on_epoch(rec):
            self.stopped = True
            self.model.stop_training = True


class Trainer:
    """A compiled model and the data for one config; trains one schedule at a time."""

    def __init__(self, cfg: Config, raw: RawData | None = None):
        self.cfg = cfg
        self.raw = raw if raw is not None else load_raw(cfg.data.dir)
        d, t = cfg.data, cfg.training
        self.input_shape = (d.image_size, d.image_size, d.channels)
        self.model = models.build(t.model, self.input_shape, d.augment, seed=0)
        self.model.compile(optimizer=keras.optimizers.SGD(learning_rate=t.initial_lr, momentum=0.0),
                           loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        self._seed: int | None = None
        self._initial: list[np.ndarray] = []
        self.splits: Splits | None = None

    def prepare(self, seed: int) -> None:
        """The run's data split and initial weights (once per seed)."""
        if seed == self._seed:
            return
        d = self.cfg.data
        if d.split == "routine":
            self.splits = routine_splits(self.raw, seed, d.image_size, d.channels, standardise=d.augment,
                                         sizes=(d.routine_train, d.routine_validation))
        else:
            self.splits = make_splits(self.raw, (d.train, d.validation, d.test), seed, d.image_size, d.channels,
                                      standardise=d.augment)
        keras.utils.set_random_seed(seed)
        fresh = models.build(self.cfg.training.model, self.input_shape, d.augment, seed=seed % 2**30)
        self._initial = fresh.get_weights()
        self._seed = seed

    def _reset(self, seed: int) -> None:
        self.model.set_weights(self._initial)
        opt = self.model.optimizer
        for v in opt.variables:
            if v is not opt.learning_rate:
                v.assign(np.zeros(v.shape, dtype=v.dtype))
        opt.learning_rate.assign(self.cfg.training.initial_lr)
        keras.utils.set_random_seed(seed)  # same shuffling, dropout and augmentation for every individual

    def train(self, rates: np.ndarray, seed: int, on_epoch: Callable[[EpochRecord], bool]) -> EvalResult:
        start = time.perf_counter()
        self.prepare(seed)
        self._reset(seed)
        t, s = self.cfg.training, self.splits
        hook = _EpochHook(np.asarray(rates, dtype=np.float32), on_epoch)
        callbacks: list[keras.callbacks.Callback] = [hook, keras.callbacks.TerminateOnNaN()]
        stopper = None
        if t.early_stop:
            stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=t.patience,
                                                    restore_best_weights=t.restore_best_weights)
            callbacks.append(stopper)
        self.model.fit(s.train.x, s.train.y, batch_size=t.batch_size, epochs=len(rates), shuffle=True,
                       validation_data=(s.validation.x, s.validation.y), callbacks=callbacks, verbose=0)
        records = tuple(hook.records)
        if hook.diverged:
            return EvalResult(0.0, hook.diverged, records, time.perf_counter() - start, None, "diverged")
        if hook.stopped:
            return EvalResult(0.0, "stopped", records, time.perf_counter() - start, None, "stopped")
        test = self.model.evaluate(s.test.x, s.test.y, batch_size=t.batch_size, verbose=0, return_dict=True)
        stopped_epoch = len(records) if stopper and stopper.stopped_epoch else None
        accuracy = float(test["accuracy"])
        if not math.isfinite(float(test["loss"])):
            return EvalResult(0.0, "test loss is not finite", records, time.perf_counter() - start, stopped_epoch,
                              "diverged")
        return EvalResult(accuracy, None, records, time.perf_counter() - start, stopped_epoch, "ok")
