"""Engine benchmark (dry-run fitness): speed, schedule repeats, and engine + store overhead.

Prints, for populations of 5 and 200 over 50 generations with 100-epoch
schedules: generations per second, and the fraction of evaluations whose
schedule (rates for epochs 1..100) was already seen in the run, next to the
fraction whose phenotype text was already seen. The gap is what the
schedule-level cache saves over a text-keyed one.

Then the engine + run store overhead per evaluation in milliseconds (wall
time of a dry run with a store, less the time inside the dry-run fitness), and
as a fraction of one default-config evaluation trained for real in this run
(needs the data: AUTOLR_DATA_DIR). Goal: under 1%.

    AUTOLR_DATA_DIR=../shared/datasets/fashion-mnist python bench/engine.py [--seed N]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import _path  # noqa: F401  (before `engine`)
import numpy as np

from engine.config import build_config
from engine.evaluators import DryRunEvaluator
from engine.events import EvaluationFinished
from engine.runner import Engine
from engine.store import Store


def measure(population: int, generations: int, seed: int) -> dict[str, float]:
    cfg = build_config(overrides=[
        "evaluator.backend='dryrun'", f"evolution.population={population}",
        f"evolution.generations={generations}", f"evolution.tournament_size={min(5, population)}",
        "training.epochs=100", f"experiment.seed={seed}",
    ])
    engine = Engine(cfg)
    seen_text: set[str] = set()
    counts = {"evals": 0, "schedule_seen": 0, "text_seen": 0}

    def count(event):
        if isinstance(event, EvaluationFinished):
            counts["evals"] += 1
            counts["schedule_seen"] += event.cache_hit
            counts["text_seen"] += event.phenotype in seen_text
            seen_text.add(event.phenotype)

    engine.subscribe(count)
    start = time.perf_counter()
    engine.run()
    seconds = time.perf_counter() - start
    n = counts["evals"]
    return {"gen_per_s": generations / seconds, "schedule_seen": counts["schedule_seen"] / n,
            "text_seen": counts["text_seen"] / n, "evals": n, "seconds": seconds}


class TimedDryRun(DryRunEvaluator):
    """The dry-run fitness, with the time spent inside it added up."""

    inside = 0.0

    def evaluate(self, rates, seed, on_epoch):
        start = time.perf_counter()
        try:
            return super().evaluate(rates, seed, on_epoch)
        finally:
            self.inside += time.perf_counter() - start


def overhead_ms(seed: int) -> float:
    """Engine + store milliseconds per evaluation, outside the fitness itself."""
    with tempfile.TemporaryDirectory() as out:
        cfg = build_config(overrides=["evaluator.backend='dryrun'", "evolution.generations=50",
                                      f"experiment.seed={seed}", f"output.dir='{out}'"])
        store = Store.create(cfg.store_path, cfg)
        fitness = TimedDryRun(cfg)
        engine = Engine(cfg, evaluator=fitness, store=store)
        count = [0]
        engine.subscribe(lambda e: count.__setitem__(0, count[0] + isinstance(e, EvaluationFinished)))
        start = time.perf_counter()
        engine.run()
        total = time.perf_counter() - start
        store.close()
    return 1000 * (total - fitness.inside) / count[0]


def default_evaluation_seconds() -> float:
    """One evaluation of the default config, trained inline (after a warm-up one)."""
    from engine.training import Trainer, configure_tensorflow

    configure_tensorflow()
    cfg = build_config(overrides=[f"data.dir='{os.environ.get('AUTOLR_DATA_DIR', '')}'"])
    trainer = Trainer(cfg)
    rates = np.full(cfg.training.epochs, 0.01, np.float32)
    trainer.train(rates, 1, lambda rec: True)
    start = time.perf_counter()
    trainer.train(rates, 1, lambda rec: True)
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--generations", type=int, default=50)
    p.add_argument("--skip-training", action="store_true", help="leave out the real default-config evaluation")
    args = p.parse_args()
    print(f"{'population':>10} {'gen/s':>9} {'evals':>7} {'schedule seen':>14} {'text seen':>10}")
    for pop in (5, 200):
        m = measure(pop, args.generations, args.seed)
        print(f"{pop:>10} {m['gen_per_s']:>9.1f} {m['evals']:>7} {m['schedule_seen']:>14.1%} {m['text_seen']:>10.1%}")
    ms = overhead_ms(args.seed)
    print(f"engine + store overhead per evaluation: {ms:.2f} ms", flush=True)
    if args.skip_training:
        return
    seconds = default_evaluation_seconds()
    print(f"one default-config evaluation: {seconds:.2f} s; overhead share: {ms / 1000 / seconds:.3%} (goal < 1%)")


if __name__ == "__main__":
    main()
