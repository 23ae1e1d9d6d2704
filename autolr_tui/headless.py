"""The headless printer: one line per generation, for terminals, nohup and log files.

Rich writes plain text when stdout is not a terminal.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from engine.events import (EvaluationFinished, Event, GenerationFinished, Log, RunFailed, RunFinished, RunStarted)


def short(text: str, width: int = 90) -> str:
    """``text`` cut to ``width`` characters, with an ellipsis when cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


class HeadlessPrinter:
    def __init__(self, console: Console | None = None, generations: int = 0, runs: int = 1):
        self.console = console or Console(highlight=False, soft_wrap=True)
        self.generations = generations
        self.runs = runs
        self._evals = self._hits = 0

    def __call__(self, event: Event) -> None:
        c = self.console
        match event:
            case RunStarted(run=run, seed=seed, dry_run=dry, resumed_at=resumed):
                kind = " [yellow]dry run: surrogate fitness, no training[/]" if dry else ""
                again = "" if resumed is None else f" resumed at generation {resumed + 1}"
                c.print(f"[bold]run {run + 1}/{self.runs}[/] seed {seed}{again}{kind}")
            case EvaluationFinished(cache_hit=hit):
                self._evals += 1
                self._hits += hit
            case GenerationFinished(run=run, generation=g, best_fitness=best, mean_fitness=mean, best_phenotype=p):
                c.print(f"run {run + 1} gen {g + 1:>3}/{self.generations}  best {best:.4f}  mean {mean:.4f}  "
                        f"evals {self._evals} ({self._hits} cached)  best policy: {escape(short(p))}")
                self._evals = self._hits = 0
            case RunFinished(run=run, best_phenotype=p, best_fitness=f, generations_done=done, stopped=stopped):
                state = f"[yellow]stopped after {done} generations[/]" if stopped else "[green]finished[/]"
                c.print(f"run {run + 1} {state}  best fitness {f:.4f}  best policy: {escape(p)}")
            case RunFailed(run=run, error=err):
                c.print(f"[red]run {run + 1} failed: {escape(err)}[/]")
            case Log(message=msg, level=level) if level != "debug":
                c.print(f"[dim]{escape(msg)}[/]")
