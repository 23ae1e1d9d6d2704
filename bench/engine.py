"""Engine benchmark (dry-run fitness): generations per second and how often a schedule repeats.

Prints, for populations of 5 and 200 over 50 generations with 100-epoch
schedules: generations per second, and the fraction of evaluations whose
schedule (rates for epochs 1..100) was already seen in the run, next to the
fraction whose phenotype text was already seen. The gap is what the
schedule-level cache saves over a text-keyed one.

    python bench/engine.py [--seed N]
"""

from __future__ import annotations

import argparse
import time

import _path  # noqa: F401  (before `engine`)
from engine.config import build_config
from engine.events import EvaluationFinished
from engine.runner import Engine


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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--generations", type=int, default=50)
    args = p.parse_args()
    print(f"{'population':>10} {'gen/s':>9} {'evals':>7} {'schedule seen':>14} {'text seen':>10}")
    for pop in (5, 200):
        m = measure(pop, args.generations, args.seed)
        print(f"{pop:>10} {m['gen_per_s']:>9.1f} {m['evals']:>7} {m['schedule_seen']:>14.1%} {m['text_seen']:>10.1%}")


if __name__ == "__main__":
    main()
