"""UI benchmark: a fake engine floods the app with 1000 epoch events per second.

Prints the median and 99th percentile of the time from an event being emitted
to the app having applied it to its widgets (the screen repaints within a
frame after that), and the UI's share of one CPU (the process's CPU time less
the fake engine's own, over wall time).

    python bench/ui.py [--rate 1000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import threading
import time

import _path  # noqa: F401  (before `engine`)

from autolr_tui.app import AutoLRApp
from engine.config import build_config
from engine.events import EpochEnded, EpochRecord, GenerationStarted


class MeasuredApp(AutoLRApp):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.latencies: list[float] = []

    def _drain_epochs(self) -> None:
        items = self.bridge._epochs.copy()
        super()._drain_epochs()
        now = time.perf_counter()
        self.latencies.extend(now - arrived for arrived, _ in items)


def flood(app: MeasuredApp, rate: int, seconds: float, population: int, engine_cpu: list[float]) -> None:
    start_cpu = time.thread_time()
    app.bridge(GenerationStarted(0, 0, tuple(f"{0.001 * (i + 1)!r}" for i in range(population))))
    start = time.perf_counter()
    n = 0
    while (now := time.perf_counter()) - start < seconds:
        due = int((now - start) * rate)
        while n < due:
            rec = EpochRecord(n % 100 + 1, 0.01, 0.5, 0.8, 0.6, 0.7, 0.001)
            app.bridge(EpochEnded(0, 0, n % population, rec))
            n += 1
        time.sleep(0.0005)
    engine_cpu.append(time.thread_time() - start_cpu)


async def main(rate: int, seconds: float) -> None:
    cfg = build_config(overrides=["training.epochs=100"])  # a real-training config (never started here)
    app = MeasuredApp(cfg)
    async with app.run_test(size=(100, 30)) as pilot:
        app.action_tab("run")
        await pilot.pause(0.2)
        engine_cpu: list[float] = []
        thread = threading.Thread(target=flood, args=(app, rate, seconds, 5, engine_cpu))
        cpu0, wall0 = time.process_time(), time.perf_counter()
        thread.start()
        while thread.is_alive():
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    lat = sorted(app.latencies)
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
    print(f"events: {len(lat)} at {rate}/s for {seconds:.0f} s")
    print(f"event -> applied: median {1000 * statistics.median(lat):.1f} ms, p99 {1000 * p99:.1f} ms")
    print(f"UI CPU share: {(cpu - engine_cpu[0]) / wall:.1%} of one core "
          f"(fake engine: {engine_cpu[0] / wall:.1%})")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=int, default=1000)
    p.add_argument("--seconds", type=float, default=5.0)
    args = p.parse_args()
    asyncio.run(main(args.rate, args.seconds))
