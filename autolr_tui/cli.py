"""The ``autolr-tui`` command line."""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
from pathlib import Path

from engine.config import PRESETS, Config, ConfigError, load_config
from engine.grammar import GrammarError
from engine.policy import PolicyError

DEFAULT_CONFIG = Path("autolr.toml")
USER_ERRORS = (ConfigError, GrammarError, PolicyError)


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
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop())


def cmd_run(args: argparse.Namespace) -> int:
    from engine.runner import Engine

    from .headless import HeadlessPrinter

    cfg = experiment_config(args)
    engine = Engine(cfg)
    engine.subscribe(HeadlessPrinter(generations=cfg.evolution.generations, runs=cfg.experiment.runs))
    _stop_on_signals(engine.stop)
    engine.start()
    while not engine.join(0.2):
        pass
    if engine.error is not None:
        return _report_failure(engine.error)
    summaries = engine.summaries
    if args.json:
        best = max(summaries, key=lambda s: -math.inf if math.isnan(s.best_fitness) else s.best_fitness,
                   default=None)
        print(json.dumps({
            "best_phenotype": best.best_phenotype if best else None,
            "best_fitness": best.best_fitness if best else None,
            "fitness": "dry-run surrogate" if cfg.dry_run else "test accuracy",
            "generations": sum(s.generations_done for s in summaries),
            "runs": [s.__dict__ for s in summaries],
            "seed": cfg.experiment.seed,
            "stopped": any(s.stopped for s in summaries),
        }))
    return 0


def _report_failure(exc: Exception) -> int:
    from engine.runner import USER_ERRORS

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
            parser.print_help()
            return 0
        return args.func(args)
    except UsageError as exc:
        print(f"autolr-tui: error: {exc} (see autolr-tui --help)", file=sys.stderr)
        return 2
    except USER_ERRORS as exc:
        print(f"autolr-tui: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
