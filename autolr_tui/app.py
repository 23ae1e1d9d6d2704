"""The Textual app: a live dashboard of the evolution, with pause/resume, results and export.

The engine runs in its own thread; its events reach the app only through
``post_message`` (see bridge.py) and the app never blocks it.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.text import Text
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, RichLog, Static, TabbedContent, TabPane

from engine.config import Config
from engine.events import (EvaluationFinished, EvaluationStarted, GenerationFinished, GenerationStarted, Log,
                           RunFailed, RunFinished, RunPaused, RunResumed, RunStarted)
from engine.export import default_name, render
from engine.policy import Policy
from engine.runner import Engine
from engine.store import PolicyRow, Store, StoreError

from .bridge import Bridge, EngineEvent, EpochsReady
from .screens import ConfirmScreen, ExportScreen, HelpScreen
from .widgets import Chart, ConfigForm, GenerationTable, short

ACTIVE = ("running", "paused", "stopping")
DRAIN_HZ = 20  # epoch updates applied per second at most
LOG_EPOCHS = 20  # epoch lines logged per update at most (real trainings give far fewer)


def _clock_text(seconds: float | None) -> str:
    if seconds is None:
        return "--:--:--"
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class AutoLRApp(App):
    TITLE = "autolr-tui"
    CSS = """
    #header { height: 1; background: $primary-background; padding: 0 1; }
    #gen-table { height: auto; max-height: 12; }
    #charts { height: 1fr; min-height: 9; }
    #charts > Chart { width: 1fr; border: round $panel; }
    #log { height: 7; border: round $panel; }
    #results-table { width: 3fr; }
    #results-side { width: 2fr; }
    #detail { height: auto; max-height: 10; padding: 0 1; }
    TabbedContent, TabPane { height: 1fr; }
    """
    BINDINGS = [
        Binding("g", "go", "Start"),
        Binding("ctrl+g", "go", "Start", show=False, priority=True),  # also while typing in the config
        Binding("p", "pause", "Pause/Resume"),
        Binding("s", "stop", "Stop"),
        Binding("e", "export", "Export"),
        Binding("1", "tab('run')", "Run", show=False),
        Binding("2", "tab('results')", "Results", show=False),
        Binding("3", "tab('config')", "Config", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit_app", "Quit"),
        Binding("ctrl+q", "quit_app", "Quit", show=False, priority=True),
    ]

    def __init__(self, config: Config, store_path: Path | None = None, clock=time.monotonic) -> None:
        super().__init__()
        self.config = config
        self.store_path = store_path  # an existing store opened with `autolr-tui open`
        self.clock = clock
        self.engine: Engine | None = None
        self.bridge = Bridge(self)
        self.state = "ready" if store_path is None else "opened"
        self.started_at: float | None = None
        self.run_index = 0
        self.generation = 0
        self.generations_done = 0
        self.generations_since_start = 0  # for the time-left estimate
        self.best: tuple[str, float, int | None] | None = None  # phenotype, fitness, stopped epoch
        self.best_curve: list[float] = []
        self.mean_curve: list[float] = []
        self._training: dict[int, str] = {}
        self._reader: Store | None = None
        self._drain_timer = None
        self._last_drain = 0.0
        self._ranked: list[PolicyRow] = []

    # -- layout ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(id="header")
        with TabbedContent(initial="config" if self.state == "ready" else "results", id="tabs"):
            with TabPane("Run", id="run"):
                yield GenerationTable(id="gen-table")
                with Horizontal(id="charts"):
                    yield Chart("schedule", id="best-chart")
                    yield Chart("fitness", id="fitness-chart")
                yield RichLog(id="log", max_lines=2000, wrap=False)
            with TabPane("Results", id="results"):  # one row per distinct schedule
                with Horizontal():
                    yield DataTable(id="results-table", cursor_type="row", zebra_stripes=True)
                    with Vertical(id="results-side"):
                        yield Chart("schedule", id="result-chart")
                        yield Static(id="detail")
            with TabPane("Config", id="config"):
                yield ConfigForm(self.config, id="config-form")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#results-table", DataTable)
        columns = (("rank", 4), ("fitness", 7), ("run", 3), ("gen.i", 6), ("seen", 4))
        # the table takes 3/5 of the width (CSS below), the policy what the other columns leave of it
        self._result_width = max(12, self.size.width * 3 // 5 - sum(w + 2 for _, w in columns) - 4)
        for label, width in (*columns, ("policy", self._result_width)):
            table.add_column(label, width=width)
        if self.store_path is not None:
            self.query_one(ConfigForm).set_editable(False)
            self._load_store_history()
        self._header = self.query_one("#header", Static)  # kept: the clock ticks on while the app shuts down
        self.set_interval(1.0, self._update_header)
        self._update_header()
        self.log_line(self._fitness_note())

    def _fitness_note(self) -> str:
        if self.config.dry_run:
            return "dry run: fitness is a surrogate computed from the schedule, no network is trained"
        return f"fitness: test accuracy of {self.config.training.model} after {self.config.training.epochs} epochs"

    # -- header --------------------------------------------------------------------------
    def _eta(self) -> float | None:
        cfg = self.config
        total = cfg.experiment.runs * cfg.evolution.generations
        done = self.run_index * cfg.evolution.generations + self.generations_done
        if self.started_at is None or self.generations_done == 0 or self.state not in ACTIVE:
            return None
        per = (self.clock() - self.started_at) / max(self.generations_since_start, 1)
        return per * (total - done)

    def _update_header(self) -> None:
        cfg = self.config
        elapsed = None if self.started_at is None else self.clock() - self.started_at
        state = self.state.upper()
        kind = "DRY RUN" if cfg.dry_run else cfg.training.model
        text = (f"{cfg.experiment.name} ({kind}) · run {self.run_index + 1}/{cfg.experiment.runs} · "
                f"gen {min(self.generation + 1, cfg.evolution.generations)}/{cfg.evolution.generations} · "
                f"{_clock_text(elapsed)} · left {_clock_text(self._eta())} · {state}")
        if self.best:
            text += f" · best {self.best[1]:.4f}"
        self._header.update(Text(text))

    def log_line(self, text: str) -> None:
        self.query_one("#log", RichLog).write(text)

    # -- commands ------------------------------------------------------------------------
    def action_go(self) -> None:
        if self.state in ACTIVE:
            self.notify("the experiment is already running")
            return
        if self.state == "finished":
            self.notify("every run of this experiment has finished")
            return
        cfg = self.query_one(ConfigForm).config if self.store_path is None else self.config
        if cfg is None:
            self.notify("fix the config first (the error is shown beside the field)", severity="error")
            self.action_tab("config")
            return
        if cfg.evaluator.backend == "inline":
            self.notify("evaluator.backend = inline would print TensorFlow's logs over the screen; "
                        "use process (or autolr-tui run)", severity="error")
            return
        try:
            store = Store.open(self.store_path) if self.store_path else Store.for_experiment(cfg)
        except StoreError as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return
        self.config = cfg
        self.store_path = store.path
        self.query_one(ConfigForm).set_editable(False)
        self.engine = Engine(cfg, store=store)
        self.engine.subscribe(self.bridge)
        self.started_at = self.clock()
        self.generations_since_start = 0
        self.state = "running"
        self.engine.start()
        self.action_tab("run")
        self._update_header()

    def action_pause(self) -> None:
        if self.engine is None or self.state not in ("running", "paused"):
            return
        if self.engine.paused:
            self.engine.resume()
            self.state = "running"
        else:
            self.engine.pause()
            self.state = "paused"
            self.log_line("paused: the training holds at its next epoch boundary")
        self._update_header()

    def action_stop(self) -> None:
        if self.engine is None or self.state not in ("running", "paused"):
            return
        self.engine.stop()
        self.state = "stopping"
        self.log_line("stopping: the training in progress ends at its next epoch boundary")
        self._update_header()

    def action_tab(self, tab: str) -> None:
        self.query_one("#tabs", TabbedContent).active = tab
        if tab == "results":
            self._refresh_results()
        focus = {"run": "#gen-table", "results": "#results-table", "config": "#config-form Input"}[tab]
        self.query(focus).first().focus()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_quit_app(self) -> None:
        if self.state in ACTIVE:
            self.push_screen(ConfirmScreen("A run is going. Stop it and quit? It stays resumable."),
                             lambda yes: self._quit() if yes else None)
        else:
            self._quit()

    def _quit(self) -> None:
        if self.engine is not None:
            self.engine.stop(now=True)
        self.exit()

    def on_unmount(self) -> None:
        if self.engine is not None:
            self.engine.stop(now=True)
            self.engine.join(15)
        if self._reader is not None:
            self._reader.close()

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        for title, help, action in (
            ("Start", "start the experiment, or continue a stopped one", self.action_go),
            ("Pause / resume", "hold the training at the next epoch boundary, or go on", self.action_pause),
            ("Stop", "end the run within an epoch; it stays resumable", self.action_stop),
            ("Export policy", "write the selected (or best) policy as Python, JSON or CSV", self.action_export),
            ("Results", "every evaluated policy, ranked", lambda: self.action_tab("results")),
            ("Config", "the experiment's settings", lambda: self.action_tab("config")),
            ("Help", "keys and what they do", self.action_help),
        ):
            yield SystemCommand(title, help, action)

    # -- engine events ---------------------------------------------------------------------
    def on_epochs_ready(self, message: EpochsReady) -> None:
        """At most DRAIN_HZ updates a second however fast epochs come; at once when they come slowly."""
        if self._drain_timer is None:
            delay = self._last_drain + 1 / DRAIN_HZ - time.perf_counter()
            if delay <= 0:
                self._drain_epochs()
            else:
                self._drain_timer = self.set_timer(delay, self._drain_epochs)

    def _drain_epochs(self) -> None:
        if self._drain_timer is not None:
            self._drain_timer.stop()
            self._drain_timer = None
        self._last_drain = time.perf_counter()
        items = self.bridge.drain()
        if not items:
            return
        table = self.query_one(GenerationTable)
        latest = {}
        for _, e in items:
            latest[e.index] = e
        for index, e in latest.items():
            table.set(index, status=f"epoch {e.record.epoch}/{self.config.training.epochs}")
        if self.config.dry_run:
            return  # surrogate epochs say nothing a person needs to read
        shown = items[-LOG_EPOCHS:]
        lines = [f"… {len(items) - len(shown)} more epochs"] if len(items) > len(shown) else []
        lines += [f"g{e.generation + 1} #{e.index + 1} epoch {e.record.epoch:>3} lr {e.record.lr:.6f} "
                  f"loss {e.record.loss:.4f} acc {e.record.accuracy:.4f} "
                  f"val {e.record.val_loss:.4f}/{e.record.val_accuracy:.4f}" for _, e in shown]
        self.log_line("\n".join(lines))  # one write however many epochs arrived

    def on_engine_event(self, message: EngineEvent) -> None:
        event = message.event
        table = self.query_one(GenerationTable)
        match event:
            case RunStarted(run=run, resumed_at=resumed):
                self.run_index, self.best, self.best_curve, self.mean_curve = run, None, [], []
                self.generations_done = 0 if resumed is None else resumed
                if resumed is not None and self._reader_store():
                    self._load_curves(run)
                self.log_line(f"run {run + 1} started" + ("" if resumed is None else
                                                          f", resumed at generation {resumed + 1}"))
            case GenerationStarted(generation=g, phenotypes=ps):
                self.generation = g
                table.new_generation(ps)
            case EvaluationStarted(index=i):
                table.set(i, status="training")
            case EvaluationFinished():
                self._drain_epochs()
                self._evaluation_finished(event)
            case GenerationFinished(generation=g, best_fitness=b, mean_fitness=m):
                self.generations_done = g + 1
                self.generations_since_start += 1
                self.best_curve.append(b)
                self.mean_curve.append(m)
                self.query_one("#fitness-chart", Chart).show(self.best_curve, self.mean_curve)
                self.log_line(f"generation {g + 1} done: best {b:.4f}, mean {m:.4f}")
                if self.query_one("#tabs", TabbedContent).active == "results":
                    self._refresh_results()
            case RunPaused():
                self.state = "paused"
            case RunResumed():
                self.state = "running"
            case RunFinished(run=run, stopped=stopped, best_fitness=f, best_phenotype=p):
                self.log_line(f"run {run + 1} {'stopped' if stopped else 'finished'}: best {f:.4f} {p}")
                last = run + 1 == self.config.experiment.runs
                if stopped or last:
                    self.state = "stopped" if stopped else "finished"
                    self.notify(f"run {run + 1} {'stopped (resumable)' if stopped else 'finished'}")
            case RunFailed(run=run, error=error):
                self.state = "failed"
                self.log_line(f"run {run + 1} failed: {error}")
                self.notify(error, severity="error", timeout=15)
            case Log(message=text):
                self.log_line(text)
        self._update_header()

    def _evaluation_finished(self, e: EvaluationFinished) -> None:
        status = "cached" if e.cache_hit else ("done" if e.reason is None else short(e.reason, 13))
        seconds = "-" if e.cache_hit or self.config.dry_run else f"{e.seconds:.1f}"
        self.query_one(GenerationTable).set(e.index, status=status, fitness=f"{e.fitness:.4f}",
                                            cache="yes" if e.cache_hit else "", seconds=seconds)
        if self.best is None or e.fitness > self.best[1]:
            stopped = e.stopped_epoch if not e.cache_hit else self._stopped_epoch_of(e)
            self.best = (e.phenotype, e.fitness, stopped)
            self._show_schedule("#best-chart", e.phenotype, stopped, f"best so far: {e.fitness:.4f}")

    def _stopped_epoch_of(self, e: EvaluationFinished) -> int | None:
        store = self._reader_store()
        if store is None:
            return None
        row = next((r for r in store.policies(e.run) if r.phenotype == e.phenotype), None)
        return row.stopped_epoch if row else None

    def _show_schedule(self, selector: str, phenotype: str, stopped: int | None, title: str) -> None:
        t = self.config.training
        rates = Policy.parse(phenotype).schedule(t.epochs, t.initial_lr)
        self.query_one(selector, Chart).show(rates, stopped, title)

    # -- the store, read from the UI's own connection ---------------------------------------
    def _reader_store(self) -> Store | None:
        if self._reader is None and self.store_path is not None and Path(self.store_path).exists():
            self._reader = Store.open(self.store_path, readonly=True)
        return self._reader

    def _load_curves(self, run: int) -> None:
        stats = self._reader_store().generation_stats(run)
        self.best_curve = [b for _, b, _ in stats]
        self.mean_curve = [m for _, _, m in stats]
        self.query_one("#fitness-chart", Chart).show(self.best_curve, self.mean_curve)

    def _load_store_history(self) -> None:
        """An experiment opened from its store: its progress, curves and last generation."""
        store = self._reader_store()
        runs = store.runs()
        if runs:
            last = runs[-1]
            self.run_index, self.generations_done = last.run, last.generations_done
            self.generation = max(last.generations_done - 1, 0)
            self._load_curves(last.run)
            finished = [r for r in runs if r.status == "finished"]
            if len(finished) == self.config.experiment.runs:
                self.state = "finished"
            self.log_line(f"opened {store.path}: " + ", ".join(f"run {r.run + 1} {r.status}" for r in runs))
        ranked = store.policies()
        if ranked:
            best = ranked[0]
            self.best = (best.phenotype, best.fitness, best.stopped_epoch)
            self._show_schedule("#best-chart", best.phenotype, best.stopped_epoch, f"best: {best.fitness:.4f}")
        saved = store.last_generation(self.run_index)
        if saved is not None:
            table = self.query_one(GenerationTable)
            table.new_generation([i.phenotype for i in saved.population])
            for i, ind in enumerate(saved.population):
                if ind.fitness is not None:
                    table.set(i, status="done", fitness=f"{ind.fitness:.4f}")
        self._refresh_results()

    def _refresh_results(self) -> None:
        """Every distinct schedule evaluated, best first, where it was first found and how often it came up."""
        store = self._reader_store()
        if store is None:
            return
        seen: dict[tuple[int, bytes], list] = {}
        for r in store.policies():  # best first; among equals, earliest first
            entry = seen.setdefault((r.run, r.schedule.tobytes()), [r, 0])
            entry[1] += 1
        self._ranked = [r for r, _ in seen.values()]
        table = self.query_one("#results-table", DataTable)
        table.clear()
        for rank, (r, count) in enumerate(list(seen.values())[:500], start=1):
            table.add_row(str(rank), f"{r.fitness:.4f}", str(r.run + 1), f"{r.generation + 1}.{r.index + 1}",
                          f"{count}x", short(r.phenotype, self._result_width))
        if self._ranked:
            self._show_result(0)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "results-table" and event.cursor_row < len(self._ranked):
            self._show_result(event.cursor_row)

    def _show_result(self, row: int) -> None:
        r = self._ranked[row]
        self._show_schedule("#result-chart", r.phenotype, r.stopped_epoch, f"#{row + 1}: fitness {r.fitness:.4f}")
        history = " ".join(f"{e.val_accuracy:.3f}" for e in r.epochs[-12:])
        detail = (f"run {r.run + 1} generation {r.generation + 1} individual {r.index + 1}"
                  f"{' (cache hit)' if r.cache_hit else ''}\n{r.phenotype}\n"
                  f"val accuracy per epoch: {history or '-'}"
                  + (f"\n{r.reason}" if r.reason else ""))
        self.query_one("#detail", Static).update(detail)

    # -- export ---------------------------------------------------------------------------
    def _selected_policy(self) -> PolicyRow | None:
        store = self._reader_store()
        if store is None:
            return None
        tabs = self.query_one("#tabs", TabbedContent)
        if tabs.active == "results" and self._ranked:
            return self._ranked[self.query_one("#results-table", DataTable).cursor_row]
        if tabs.active == "run":
            index = self.query_one(GenerationTable).selected_index()
            rows = [r for r in store.policies(self.run_index)
                    if (r.generation, r.index) == (self.generation, index)]
            if rows:
                return rows[0]
        ranked = store.policies()
        return ranked[0] if ranked else None

    def action_export(self) -> None:
        row = self._selected_policy()
        if row is None:
            self.notify("nothing evaluated yet to export", severity="warning")
            return
        default = Path(self.config.output.exports) / default_name(self.config, row, "py")
        what = f"run {row.run + 1} generation {row.generation + 1} individual {row.index + 1} ({row.fitness:.4f})"
        self.push_screen(ExportScreen(what, default), lambda answer: self._export(row, answer))

    def _export(self, row: PolicyRow, answer: tuple[str, str] | None) -> None:
        if not answer:
            return
        path, fmt = Path(answer[0]).expanduser(), answer[1]
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(row, self.config, fmt))
        except OSError as exc:
            self.notify(f"{path}: cannot write ({exc.strerror})", severity="error")
            return
        self.notify(f"exported to {path}")
        self.log_line(f"exported {row.phenotype} to {path}")
