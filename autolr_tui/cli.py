"""The ``autolr-tui`` command line."""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
from pathlib import Path

from engine.config import PRESETS, Config, ConfigError, load_config
from engine.export import FORMATS
from engine.grammar import GrammarError
from engine.policy import PolicyError
from engine.retest import BASELINE
from engine.runner import USER_ERRORS as SETUP_ERRORS
from engine.store import StoreError

DEFAULT_CONFIG = Path("autolr.toml")
USER_ERRORS = (ConfigError, GrammarError, PolicyError, *SETUP_ERRORS)  # one line and exit 2, never a traceback


class UsageError(Exception):
    """Bad command-line input."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2
        raise UsageError(message)


def _experiment_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    d = argparse.SUPPRESS if suppress else None
    g = parser.add_argument_group("experiment")
    g.add_argument("--config", metavar="FILE", default=d,
                   help="TOML config (default: ./autolr.toml when present and no --preset)")
    g.add_argument("--preset", choices=sorted(PRESETS), default=d, help="start from a built-in experiment")
    g.add_argument("--set", dest="overrides", action="append", metavar="SECTION.KEY=VALUE",
                   default=argparse.SUPPRESS if suppress else [], help="override one config key (repeatable)")
    g.add_argument("--seed", type=int, default=d, help="same as --set experiment.seed=N")
    g.add_argument("--dry-run", action="store_true", default=argparse.SUPPRESS if suppress else False,
                   help="surrogate fitness from the schedule itself, no training (seconds, for trying things)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="autolr-tui", description="Evolve learning-rate schedules for your network (AutoLR) "
                     "and watch the search live. Without a command: open the app.")
    _experiment_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    run = sub.add_parser("run", help="run an experiment without the UI, a line per generation")
    _experiment_options(run, suppress=True)
    run.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    run.set_defaults(func=cmd_run)
    resume = sub.add_parser("resume", help="continue a stopped or killed experiment from its store")
    resume.add_argument("path", metavar="PATH", help="the run store (<output.dir>/<name>.sqlite)")
    resume.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    resume.set_defaults(func=cmd_resume)
    opened = sub.add_parser("open", help="open an experiment's store in the app (results, export, continue)")
    opened.add_argument("path", metavar="PATH")
    opened.set_defaults(func=cmd_open)
    runs = sub.add_parser("runs", help="list the runs in a store: status, generations, best policy")
    runs.add_argument("path", metavar="PATH")
    runs.add_argument("--json", action="store_true")
    runs.set_defaults(func=cmd_runs)
    export = sub.add_parser("export", help="write a policy (default: the best) as Python, JSON or CSV")
    export.add_argument("path", metavar="PATH")
    export.add_argument("--run", type=int, metavar="N", help="only run N (1-based)")
    export.add_argument("--individual", type=_individual, metavar="G.I",
                        help="generation G, individual I (1-based, as `runs` and the app show them)")
    export.add_argument("--format", choices=FORMATS, default="py")
    export.add_argument("-o", "--output", metavar="FILE", help="default: <output.exports>/<name>-runN-gG-iI.<format>; - for stdout")
    export.set_defaults(func=cmd_export)
    retest = sub.add_parser("retest", help="the paper's testing routine: retrain a policy (default: the best) and "
                            "the constant 0.01 baseline on 52,500/7,500 images, test on the official 10,000")
    retest.add_argument("path", metavar="PATH")
    retest.add_argument("--run", type=int, metavar="N", help="only run N (1-based)")
    retest.add_argument("--individual", type=_individual, metavar="G.I")
    retest.add_argument("--repeats", type=int, default=5, help="trainings of each (default: 5, as the paper)")
    retest.add_argument("--baseline", default=BASELINE, metavar="POLICY",
                        help=f"the policy to compare with (default: {BASELINE}, the paper's)")
    retest.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="change the stored config for the retest (e.g. training.epochs=100)")
    retest.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    retest.set_defaults(func=cmd_retest)
    return parser


def experiment_config(args: argparse.Namespace) -> Config:
    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"experiment.seed={args.seed}")
    if args.dry_run:
        overrides.append("evaluator.backend='dryrun'")
    path = args.config
    if path is None and args.preset is None and DEFAULT_CONFIG.exists():
        path = DEFAULT_CONFIG
    return load_config(path, preset=args.preset, overrides=overrides)


def _stop_on_signals(stop) -> None:
    """The first signal stops at the next epoch boundary (``stop(False)``); a second one at once (``stop(True)``)."""
    received = []

    def handler(signum, frame) -> None:
        received.append(signum)
        if len(received) == 1:
            print(f"stopping after the current epoch ({signal.Signals(signum).name}; again to stop now)",
                  file=sys.stderr, flush=True)
        stop(len(received) > 1)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


def _drive(cfg: Config, store, args: argparse.Namespace) -> int:
    """Run the engine in its thread with the headless printer until it ends or a signal stops it."""
    from engine.runner import Engine
    from .headless import HeadlessPrinter

    pid = store.running_elsewhere()
    if pid is not None:
        raise StoreError(f"{store.path} is being run by process {pid}")
    engine = Engine(cfg, store=store)
    engine.subscribe(HeadlessPrinter(generations=cfg.evolution.generations, runs=cfg.experiment.runs))
    _stop_on_signals(lambda now: engine.stop(now=now))
    engine.start()
    while not engine.join(0.2):
        pass
    store.close()
    if engine.error is not None:
        return _report_failure(engine.error)
    summaries = engine.summaries
    if any(s.stopped for s in summaries):
        print(f"stopped; continue with: autolr-tui resume {store.path}", flush=True)
    if args.json:
        best = max(summaries, key=lambda s: -math.inf if math.isnan(s.best_fitness) else s.best_fitness,
                   default=None)
        print(json.dumps({
            "best_phenotype": best.best_phenotype if best else None,
            "best_fitness": best.best_fitness if best else None,
            "fitness": cfg.fitness_meaning,
            "generations": sum(s.generations_done for s in summaries),
            "runs": [s.__dict__ for s in summaries],
            "seed": cfg.experiment.seed,
            "stopped": any(s.stopped for s in summaries),
            "store": str(store.path),
        }))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    cfg = experiment_config(args)
    from engine.store import Store

    return _drive(cfg, Store.for_experiment(cfg), args)


def cmd_resume(args: argparse.Namespace) -> int:
    from engine.store import Store

    store = Store.open(args.path)
    return _drive(store.config(), store, args)


def cmd_runs(args: argparse.Namespace) -> int:
    from engine.store import Store

    from .headless import short

    store = Store.open(args.path, readonly=True)
    cfg, rows = store.config(), store.runs()
    if args.json:
        print(json.dumps({"experiment": cfg.experiment.name, "generations": cfg.evolution.generations,
                          "runs": [r.__dict__ for r in rows]}))
        return 0
    print(f"{store.path}: experiment {cfg.experiment.name!r}, {len(rows)}/{cfg.experiment.runs} runs started")
    for r in rows:
        best = "-" if r.best_fitness is None else f"{r.best_fitness:.4f}"
        print(f"run {r.run + 1}  {r.status:<11} gen {r.generations_done}/{cfg.evolution.generations}  "
              f"evals {r.evaluations}  best {best}  {short(r.best_phenotype or '', 70)}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from engine.export import default_name, render
    from engine.store import Store

    store = Store.open(args.path, readonly=True)
    cfg = store.config()
    row = _pick_policy(store, args)
    text = render(row, cfg, args.format)
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    out = Path(args.output) if args.output else Path(cfg.output.exports) / default_name(cfg, row, args.format)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    except OSError as exc:
        raise StoreError(f"{out}: cannot write ({exc.strerror})") from None
    print(f"exported run {row.run + 1} generation {row.generation + 1} individual {row.index + 1} "
          f"(fitness {row.fitness:.4f}) to {out}")
    return 0


def run_app(cfg: Config, store_path: Path | None = None) -> int:
    from engine.evaluators import prepare_worker_processes

    from .app import AutoLRApp

    prepare_worker_processes()
    AutoLRApp(cfg, store_path=store_path).run()
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    return run_app(experiment_config(args))


def cmd_open(args: argparse.Namespace) -> int:
    from engine.store import Store

    store = Store.open(args.path, readonly=True)
    cfg = store.config()
    store.close()
    return run_app(cfg, Path(args.path))


def _pick_policy(store, args: argparse.Namespace):
    """The policy a command names: --run and --individual, else the best."""
    rows = store.policies(None if args.run is None else args.run - 1)
    if args.individual is not None:
        gen, idx = args.individual
        rows = [r for r in rows if (r.generation, r.index) == (gen - 1, idx - 1)]
    if not rows:
        what = f"individual {args.individual[0]}.{args.individual[1]}" if args.individual else "evaluated policy"
        raise StoreError(f"{store.path}: no {what}" + (f" in run {args.run}" if args.run else ""))
    return rows[0]


def cmd_retest(args: argparse.Namespace) -> int:
    from engine.config import build_config
    from engine.evaluators import make_evaluators
    from engine.policy import Policy
    from engine.retest import retest, routine_config
    from engine.store import Store

    store = Store.open(args.path, readonly=True)
    stored = store.config()
    row = _pick_policy(store, args)
    store.close()
    cfg = routine_config(build_config(stored.to_dict(), overrides=args.overrides, origin=str(args.path)))
    if cfg.dry_run:
        raise ConfigError("retest trains networks: this experiment was a dry run, "
                          "add --set evaluator.backend=process")
    d, t = cfg.data, cfg.training
    print(f"testing routine: {t.model}, {d.routine_train}/{d.routine_validation} images + the official 10,000 "
          f"test images, {t.epochs} epochs{' with early stopping' if t.early_stop else ''}, {args.repeats} repeats",
          flush=True)
    policies = {"policy": row.phenotype, "baseline": Policy.parse(args.baseline).text}
    (evaluator, *others) = make_evaluators(cfg)
    for ev in others:
        ev.close()
    stopping: list[bool] = []

    def stop(now: bool) -> None:
        stopping.append(now)
        if now and hasattr(evaluator, "cancel"):
            evaluator.cancel()

    _stop_on_signals(stop)
    try:
        results = retest(cfg, policies, args.repeats, evaluator, lambda label, r, rec: not stopping,
                         lambda label, r, out: print(
                             f"{label:<8} repeat {r + 1}/{args.repeats}: best validation "
                             f"{max((e.val_accuracy for e in out.epochs), default=0):.4f}  test {out.fitness:.4f}  "
                             f"({len(out.epochs)} epochs{'; ' + out.reason if out.reason else ''})", flush=True))
    finally:
        evaluator.close()
    print(f"{'':<8} {'best validation':>18} {'test':>18}")
    for res in results:
        (vm, vs), (tm, ts) = res.validation_stats, res.test_stats
        print(f"{res.label:<8} {vm:>10.4f} ± {vs:.4f} {tm:>10.4f} ± {ts:.4f}   {res.phenotype}")
    if stopping:
        print("stopped before every repeat was done")
    if args.json:
        print(json.dumps({"results": [r.to_dict() for r in results], "repeats": args.repeats,
                          "stopped": bool(stopping), "config": cfg.to_dict()}))
    return 0


def _individual(text: str) -> tuple[int, int]:
    try:
        gen, idx = (int(p) for p in text.split("."))
        if gen < 1 or idx < 1:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected GENERATION.INDEX (e.g. 12.3), got {text!r}") from None
    return gen, idx


def _report_failure(exc: Exception) -> int:
    if isinstance(exc, USER_ERRORS):
        print(f"autolr-tui: error: {exc}", file=sys.stderr)
        return 2
    print(f"autolr-tui: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            return cmd_app(args)
        return args.func(args)
    except UsageError as exc:
        print(f"autolr-tui: error: {exc} (see autolr-tui --help)", file=sys.stderr)
        return 2
    except USER_ERRORS as exc:
        print(f"autolr-tui: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
