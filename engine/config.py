"""Experiment configuration: typed dataclasses read from TOML, presets and overrides.

Precedence, lowest first: built-in defaults, a ``--preset``, the config file,
``--set section.key=value`` overrides. Every problem raises ConfigError with
one line naming the key (or file:line).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .grammar import GrammarError, load_grammar


class ConfigError(ValueError):
    """A config problem; the message is one line naming the key or file."""


def digest(values: Any) -> str:
    """A stable short hash of JSON-able values."""
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


def _key(default: Any, help: str, *, min: float | None = None, max: float | None = None,
         choices: tuple | None = None) -> Any:
    return field(default=default, metadata={"help": help, "min": min, "max": max, "choices": choices})


@dataclass(frozen=True)
class ExperimentConfig:
    name: str = _key("default", "name of the experiment; the run store is <output.dir>/<name>.sqlite")
    seed: int = _key(42, "master seed; run i uses a seed derived from it", min=0)
    runs: int = _key(1, "independent evolutionary runs (the paper: 10)", min=1)


@dataclass(frozen=True)
class EvolutionConfig:
    generations: int = _key(20, "generations per run (the paper: 50)", min=1)
    population: int = _key(5, "individuals per generation (the paper: 5)", min=1)
    mutation_rate: float = _key(0.15, "per-gene mutation probability", min=0.0, max=1.0)
    crossover_rate: float = _key(0.9, "probability that a child comes from crossover", min=0.0, max=1.0)
    tournament_size: int = _key(5, "tournament size for selection (at most the population)", min=1)
    elitism: int = _key(1, "best individuals copied unchanged into the next generation", min=0)
    init_depth: int = _key(6, "random growth of initial trees up to this depth", min=1)
    max_depth: int = _key(17, "maximum tree depth", min=1)
    grammar: str = _key("autolr", "built-in grammar name or path to a .bnf file")


@dataclass(frozen=True)
class DataConfig:
    dir: str = _key("", "Fashion-MNIST folder; empty: $AUTOLR_DATA_DIR, else the Keras cache")
    train: int = _key(4000, "training images drawn from the 60,000 (the paper: 7000)", min=10)
    validation: int = _key(1000, "validation images (early stopping) (the paper: 1500)", min=10)
    test: int = _key(1000, "test images; fitness is accuracy on them (the paper: 1500)", min=10)
    image_size: int = _key(28, "28 keeps the originals; 32 scales by nearest neighbour as the paper", choices=(28, 32))
    channels: int = _key(1, "1 grayscale; 3 replicates the channel as the paper", choices=(1, 3))
    augment: bool = _key(False, "paper augmentation: featurewise centre/std, rotation 20, shifts 0.2, flip")
    split: str = _key("evolution", "evolution: train/validation/test from the 60,000; routine: the paper's testing "
                      "routine (routine_train/routine_validation, and the official 10,000 as test)",
                      choices=("evolution", "routine"))
    routine_train: int = _key(52500, "testing routine: training images drawn from the 60,000", min=10)
    routine_validation: int = _key(7500, "testing routine: validation images drawn from the 60,000", min=10)


@dataclass(frozen=True)
class TrainingConfig:
    model: str = _key("small_cnn", "network: small_cnn (quick) or denser (the paper's)", choices=("small_cnn", "denser"))
    epochs: int = _key(10, "epochs per training (paper A: 100, paper B: 20)", min=1, max=10000)
    batch_size: int = _key(250, "batch size (the paper: 1000)", min=1)
    initial_lr: float = _key(0.01, "optimizer rate before the policy's first call", min=0.0, max=10.0)
    early_stop: bool = _key(False, "stop when validation loss stops improving")
    patience: int = _key(3, "early-stopping patience in epochs", min=1)
    restore_best_weights: bool = _key(True, "early stopping restores the best weights")


@dataclass(frozen=True)
class EvaluatorConfig:
    backend: str = _key("process", "process (worker processes), ray (actors on a Ray cluster), inline (this "
                        "process), or dryrun (surrogate fitness, no training)",
                        choices=("process", "ray", "inline", "dryrun"))
    workers: int = _key(0, "worker processes (or Ray actors); 0: one per GPU, one without a GPU", min=0)
    ray_address: str = _key("", "backend = ray: empty starts Ray on this machine; 'auto' joins this machine's "
                            "cluster; or host:port")


@dataclass(frozen=True)
class OutputConfig:
    dir: str = _key("runs", "folder of the run store <name>.sqlite and worker logs")
    exports: str = _key("exports", "default folder for exported policies")


@dataclass(frozen=True)
class Config:
    experiment: ExperimentConfig = field(default_factory=ExperimentConfig)
    evolution: EvolutionConfig = field(default_factory=EvolutionConfig)
    data: DataConfig = field(default_factory=DataConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    evaluator: EvaluatorConfig = field(default_factory=EvaluatorConfig)
    output: OutputConfig = field(default_factory=OutputConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return dataclasses.asdict(self)

    @property
    def dry_run(self) -> bool:
        return self.evaluator.backend == "dryrun"

    @property
    def fitness_meaning(self) -> str:
        """What a fitness of this experiment is, for every place that shows one."""
        return "dry-run surrogate" if self.dry_run else "test accuracy"

    @property
    def store_path(self) -> Path:
        return Path(self.output.dir) / f"{self.experiment.name}.sqlite"


SECTIONS: dict[str, type] = {
    "experiment": ExperimentConfig, "evolution": EvolutionConfig, "data": DataConfig,
    "training": TrainingConfig, "evaluator": EvaluatorConfig, "output": OutputConfig,
}

_PAPER = {
    "experiment": {"runs": 10},
    "evolution": {"generations": 50, "population": 5, "mutation_rate": 0.15, "crossover_rate": 0.9,
                  "tournament_size": 5, "elitism": 1, "init_depth": 6, "max_depth": 17, "grammar": "autolr"},
    "data": {"train": 7000, "validation": 1500, "test": 1500, "image_size": 32, "channels": 3, "augment": True},
    "training": {"model": "denser", "batch_size": 1000, "initial_lr": 0.01, "patience": 3,
                 "restore_best_weights": True},
}

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "paper-a": {**_PAPER, "experiment": {**_PAPER["experiment"], "name": "paper-a"},
                "training": {**_PAPER["training"], "epochs": 100, "early_stop": True}},
    "paper-b": {**_PAPER, "experiment": {**_PAPER["experiment"], "name": "paper-b"},
                "training": {**_PAPER["training"], "epochs": 20, "early_stop": False}},
}


def _type_name(t: type) -> str:
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}[t]


def _check_value(section: str, f: dataclasses.Field, value: Any) -> Any:
    name = f"{section}.{f.name}"
    t = {"int": int, "float": float, "bool": bool, "str": str}[f.type]
    ok = isinstance(value, t) and not (t is int and isinstance(value, bool))
    if t is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        raise ConfigError(f"{name}: expected {_type_name(t)}, got {value!r}")
    m = f.metadata
    if m["choices"] is not None and value not in m["choices"]:
        raise ConfigError(f"{name}: must be one of {', '.join(map(str, m['choices']))}; got {value!r}")
    if m["min"] is not None and value < m["min"]:
        raise ConfigError(f"{name}: must be >= {m['min']}, got {value!r}")
    if m["max"] is not None and value > m["max"]:
        raise ConfigError(f"{name}: must be <= {m['max']}, got {value!r}")
    return value


def _merge(base: dict[str, dict[str, Any]], layer: dict[str, Any], origin: str) -> None:
    for section, values in layer.items():
        if section not in SECTIONS:
            raise ConfigError(f"{origin}: unknown section [{section}] (known: {', '.join(SECTIONS)})")
        if not isinstance(values, dict):
            raise ConfigError(f"{origin}: {section} must be a table [{section}]")
        known = {f.name: f for f in fields(SECTIONS[section])}
        for key, value in values.items():
            if key not in known:
                raise ConfigError(f"{origin}: unknown key {section}.{key} (known: {', '.join(known)})")
            try:
                base[section][key] = _check_value(section, known[key], value)
            except ConfigError as exc:
                raise ConfigError(f"{origin}: {exc}") from None


def parse_override(text: str) -> dict[str, dict[str, Any]]:
    """``section.key=value``; value read as TOML, else as a bare string."""
    m = re.fullmatch(r"\s*([A-Za-z_]\w*)\.([A-Za-z_]\w*)\s*=(.*)", text)
    if not m:
        raise ConfigError(f"--set {text!r}: expected section.key=value")
    section, key, raw = m.group(1), m.group(2), m.group(3).strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return {section: {key: value}}


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from None


def build_config(file_data: dict[str, Any] | None = None, *, preset: str | None = None,
                 overrides: list[str] = (), origin: str = "config") -> Config:
    values: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    if preset is not None:
        if preset not in PRESETS:
            raise ConfigError(f"--preset {preset!r}: unknown preset (known: {', '.join(PRESETS)})")
        _merge(values, PRESETS[preset], f"preset {preset}")
    if file_data:
        _merge(values, file_data, origin)
    for text in overrides:
        _merge(values, parse_override(text), f"--set {text}")
    cfg = Config(**{s: cls(**values[s]) for s, cls in SECTIONS.items()})
    validate(cfg)
    return cfg


def load_config(path: str | Path | None = None, *, preset: str | None = None,
                overrides: list[str] = ()) -> Config:
    data = read_toml(Path(path)) if path is not None else None
    return build_config(data, preset=preset, overrides=overrides, origin=str(path))


def validate(cfg: Config) -> None:
    """Checks across keys, and that the grammar loads and admits the depth limits."""
    ev = cfg.evolution
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", cfg.experiment.name):
        raise ConfigError(f"experiment.name: use letters, digits, '_', '-', '.'; got {cfg.experiment.name!r}")
    if ev.elitism >= ev.population:
        raise ConfigError(f"evolution.elitism: must be below evolution.population ({ev.population}), got {ev.elitism}")
    if ev.tournament_size > ev.population:
        raise ConfigError(
            f"evolution.tournament_size: must be at most evolution.population ({ev.population}), got {ev.tournament_size}")
    if ev.init_depth > ev.max_depth:
        raise ConfigError(f"evolution.init_depth: must be at most evolution.max_depth ({ev.max_depth}), got {ev.init_depth}")
    d = cfg.data
    if d.train + d.validation + d.test > 60000:
        raise ConfigError(f"data.train + data.validation + data.test: at most 60000 images, got {d.train + d.validation + d.test}")
    if d.routine_train + d.routine_validation > 60000:
        raise ConfigError(f"data.routine_train + data.routine_validation: at most 60000 images, got "
                          f"{d.routine_train + d.routine_validation}")
    try:
        grammar = load_grammar(ev.grammar)
    except GrammarError as exc:
        raise ConfigError(f"evolution.grammar: {exc}") from None
    need = grammar.min_depth[grammar.start]
    if ev.max_depth < need:
        raise ConfigError(f"evolution.max_depth: the grammar needs at least {need}, got {ev.max_depth}")
