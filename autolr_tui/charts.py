"""Terminal charts drawn with plotext (rendered to text; plotext's figure is global, so UI thread only).

Rates are plotted as log10 on a linear axis with labelled ticks: plotext 5's own
log scale crashes on resize.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotext as plt


def _setup(width: int, height: int, title: str) -> None:
    plt.clear_figure()
    plt.plotsize(max(width, 20), max(height, 6))
    plt.theme("clear")
    plt.title(title)


def _int_ticks(n: int, most: int = 6) -> list[int]:
    step = max(1, math.ceil(n / most))
    return list(range(1, n + 1, step))


def schedule_chart(rates: Sequence[float], stopped_epoch: int | None, width: int, height: int,
                   title: str = "learning rate per epoch") -> str:
    """Rate over epochs on a log scale, with a vertical line where early stopping ended the training."""
    _setup(width, height, title)
    if not len(rates):
        return plt.build()
    epochs = list(range(1, len(rates) + 1))
    logs = [math.log10(max(float(r), 1e-12)) for r in rates]
    plt.plot(epochs, logs, marker="braille")
    low, high = math.floor(min(logs)), math.ceil(max(logs))
    if low == high:
        low, high = low - 1, high + 1
    plt.ylim(low, high)
    # no more labels than plot rows, or plotext picks among them unpredictably
    rows = max(height - 5, 1)  # less the title, the frame, the x ticks and the x label
    ticks = list(range(low, high + 1))
    ticks = ticks[:: math.ceil(len(ticks) / rows)]
    plt.yticks(ticks, [f"1e{p}" for p in ticks])
    plt.xticks(_int_ticks(len(rates)))
    if stopped_epoch:
        plt.vline(stopped_epoch)
    plt.xlabel("epoch" + (f" (stopped at {stopped_epoch})" if stopped_epoch else ""))
    return plt.build()


def fitness_chart(best: Sequence[float], mean: Sequence[float], width: int, height: int,
                  title: str = "fitness per generation") -> str:
    _setup(width, height, title)
    if not best:
        return plt.build()
    gens = list(range(1, len(best) + 1))
    plt.plot(gens, list(best), marker="braille", label="best")
    plt.plot(gens, list(mean), marker="braille", label="mean")
    plt.xticks(_int_ticks(len(best)))
    plt.ylim(0, 1)
    return plt.build()
