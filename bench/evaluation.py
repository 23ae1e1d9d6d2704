"""Fixed cost of one evaluation: the process evaluator against a bare Keras fit+evaluate.

For the default config and for DENSER on 7000 images, in one run: time one
evaluation through the `process` evaluator (worker already started and warm)
and the same fit + evaluate in a bare Keras script in this (warm) process.
Prints both, their ratio and the fixed cost per evaluation in seconds and as a
share of the bare training time. Goal: under 5% for the default config.

    AUTOLR_DATA_DIR=../shared/datasets/fashion-mnist python bench/evaluation.py [--models default,denser]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import _path  # noqa: F401  (before `engine`)
import numpy as np

from engine.config import Config, build_config
from engine.data import load_raw, make_splits
from engine.evaluators import ProcessEvaluator

SETUPS = {
    "default": [],
    "denser": ["training.model='denser'", "data.image_size=32", "data.channels=3", "data.train=7000",
               "data.validation=1500", "data.test=1500", "training.batch_size=1000", "data.augment=true"],
}


def bare_keras(cfg: Config, rates: np.ndarray, seed: int):
    """The same training without the engine: build, compile, then fit + evaluate per call."""
    import keras

    from engine import models

    d, t = cfg.data, cfg.training
    keras.utils.set_random_seed(seed)
    s = make_splits(load_raw(d.dir), (d.train, d.validation, d.test), seed, d.image_size, d.channels, d.augment)
    model = models.build(t.model, (d.image_size, d.image_size, d.channels), d.augment, seed)
    model.compile(optimizer=keras.optimizers.SGD(t.initial_lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    schedule = keras.callbacks.LearningRateScheduler(lambda epoch, lr: float(rates[epoch]))
    initial = model.get_weights()

    def once() -> None:
        # from the same starting weights every time, as an evaluation does: a network trained further
        # can run at a different speed (DENSER's epochs slow down as it trains on CPU)
        model.set_weights(initial)
        model.fit(s.train.x, s.train.y, batch_size=t.batch_size, epochs=len(rates), verbose=0,
                  validation_data=(s.validation.x, s.validation.y), callbacks=[schedule])
        model.evaluate(s.test.x, s.test.y, batch_size=t.batch_size, verbose=0)

    return once


def through_worker(ev: ProcessEvaluator, rates: np.ndarray, seed: int):
    def once() -> None:
        r = ev.evaluate(rates, seed, lambda rec: True)
        assert r.status == "ok", r.reason

    return once


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compare(cfg: Config, rates: np.ndarray, repeats: int) -> tuple[float, float]:
    """Median seconds of the worker path and the bare path, interleaved (this machine is noisy)."""
    ev = ProcessEvaluator(cfg)
    try:
        paths = [through_worker(ev, rates, 1), bare_keras(cfg, rates, 1)]
        for fn in paths:
            fn()  # start, build and trace: not part of a steady evaluation
        times = [[timed(fn) for fn in paths] for _ in range(repeats)]
    finally:
        ev.close()
    return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="default,denser")
    p.add_argument("--epochs", type=int, default=0, help="epochs per training (default: the config's, 1 for DENSER)")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    from engine.training import configure_tensorflow

    configure_tensorflow()
    print(f"{'setup':>8} {'epochs':>6} {'process s':>10} {'bare s':>8} {'ratio':>6} {'fixed s':>8} {'fixed %':>8}")
    with tempfile.TemporaryDirectory() as out:
        for name in args.models.split(","):
            cfg = build_config(overrides=[*SETUPS[name], f"output.dir='{out}'",
                                          f"data.dir='{os.environ.get('AUTOLR_DATA_DIR', '')}'"])
            epochs = args.epochs or (1 if name == "denser" else cfg.training.epochs)
            cfg = build_config(overrides=[*SETUPS[name], f"output.dir='{out}'", f"training.epochs={epochs}",
                                          f"data.dir='{cfg.data.dir}'"])
            rates = np.full(epochs, 0.01, np.float32)
            proc, bare = compare(cfg, rates, args.repeats)
            fixed = proc - bare
            print(f"{name:>8} {epochs:>6} {proc:>10.2f} {bare:>8.2f} {proc / bare:>6.3f} {fixed:>8.3f} "
                  f"{fixed / bare:>8.1%}", flush=True)


if __name__ == "__main__":
    main()
