"""The run store: one SQLite file (WAL) per experiment, at ``<output.dir>/<name>.sqlite``.

Holds the experiment's config, its runs (seed, status), generations (with the
RNG state to breed the next one), individuals (genotype, phenotype, schedule),
evaluations (fitness, reason, seconds, cache hit), their per-epoch metrics,
and the schedule cache, so a finished training is never paid for twice.
Every finished evaluation is committed before the next one starts.

A file that is not an autolr-tui store, or was written by a newer version, is
refused with a clear error and never modified.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import urllib.parse
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .config import Config, build_config
from .events import EpochRecord
from .results import EvalResult
from .sge import Individual

SCHEMA_VERSION = 1
APP = "autolr-tui"
_SQLITE_HEADER = b"SQLite format 3\x00"

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE experiment (id INTEGER PRIMARY KEY CHECK (id = 1), name TEXT NOT NULL, config TEXT NOT NULL,
    created REAL NOT NULL);
CREATE TABLE runs (run INTEGER PRIMARY KEY, seed INTEGER NOT NULL, train_seed INTEGER NOT NULL,
    status TEXT NOT NULL, generations_done INTEGER NOT NULL DEFAULT 0, best_fitness REAL, best_phenotype TEXT,
    pid INTEGER, started REAL NOT NULL, updated REAL NOT NULL);
CREATE TABLE generations (run INTEGER NOT NULL, generation INTEGER NOT NULL, rng_state TEXT NOT NULL,
    finished INTEGER NOT NULL DEFAULT 0, best_fitness REAL, mean_fitness REAL, PRIMARY KEY (run, generation));
CREATE TABLE individuals (run INTEGER NOT NULL, generation INTEGER NOT NULL, idx INTEGER NOT NULL,
    genotype TEXT NOT NULL, used TEXT NOT NULL, depth INTEGER NOT NULL, phenotype TEXT NOT NULL,
    schedule BLOB NOT NULL, PRIMARY KEY (run, generation, idx));
CREATE TABLE evaluations (run INTEGER NOT NULL, generation INTEGER NOT NULL, idx INTEGER NOT NULL,
    fitness REAL NOT NULL, reason TEXT, status TEXT NOT NULL, seconds REAL NOT NULL, cache_hit INTEGER NOT NULL,
    cache_key BLOB NOT NULL, finished REAL NOT NULL, PRIMARY KEY (run, generation, idx));
CREATE TABLE cache (key BLOB PRIMARY KEY, fitness REAL NOT NULL, reason TEXT, status TEXT NOT NULL,
    seconds REAL NOT NULL, stopped_epoch INTEGER, epochs TEXT NOT NULL);
"""


class StoreError(ValueError):
    """A store file that cannot be used; one line naming the file."""


@dataclass(frozen=True)
class RunRow:
    run: int
    seed: int
    train_seed: int
    status: str  # running | interrupted (its process died) | stopped | finished | failed
    generations_done: int
    best_fitness: float | None
    best_phenotype: str | None
    evaluations: int


@dataclass(frozen=True)
class SavedGeneration:
    generation: int
    population: list[Individual]  # fitness set where the evaluation finished
    rng_state: dict[str, Any]


@dataclass(frozen=True)
class PolicyRow:
    run: int
    generation: int
    index: int
    phenotype: str
    genotype: dict[str, list[int]]
    schedule: np.ndarray
    fitness: float
    reason: str | None
    status: str
    cache_hit: bool
    stopped_epoch: int | None
    epochs: tuple[EpochRecord, ...]


def _uri(path: Path) -> str:
    return "file:" + urllib.parse.quote(str(path.resolve()))


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _check_file(path: Path) -> None:
    """Refuse anything that is not an autolr-tui store this version reads, without writing to it."""
    try:
        with open(path, "rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        raise StoreError(f"{path}: cannot read ({exc.strerror})") from None
    if len(header) < 100 or not header.startswith(_SQLITE_HEADER):
        raise StoreError(f"{path}: not an autolr-tui run store (not an SQLite database, or truncated)")
    # without a -wal file beside it the file is complete: read it as immutable, which creates no -wal/-shm
    immutable = "" if Path(f"{path}-wal").exists() else "&immutable=1"
    try:
        con = sqlite3.connect(f"{_uri(path)}?mode=ro{immutable}", uri=True)
        try:
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
            con.execute("SELECT count(*) FROM runs").fetchone()
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: not an autolr-tui run store ({exc})") from None
    if meta.get("app") != APP:
        raise StoreError(f"{path}: not an autolr-tui run store (app {meta.get('app')!r})")
    version = int(meta.get("schema_version", "0"))
    if version > SCHEMA_VERSION:
        raise StoreError(f"{path}: written by a newer autolr-tui (store schema {version}; this version reads "
                         f"up to {SCHEMA_VERSION}); upgrade autolr-tui")
    if version < 1:
        raise StoreError(f"{path}: unknown store schema {version}")


class Store:
    """One connection; use it from one thread (the engine's, or a reader's own)."""

    def __init__(self, path: Path, con: sqlite3.Connection):
        self.path = path
        self.con = con

    # -- opening ---------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, readonly: bool = False) -> "Store":
        path = Path(path)
        if not path.exists():
            raise StoreError(f"{path}: no such run store")
        _check_file(path)
        con = sqlite3.connect(_uri(path) + ("?mode=ro" if readonly else ""), uri=True, check_same_thread=False)
        if not readonly:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
        return cls(path, con)

    @classmethod
    def create(cls, path: str | Path, cfg: Config) -> "Store":
        path = Path(path)
        if path.exists():
            raise StoreError(f"{path}: already exists")
        path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(path, check_same_thread=False)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        with con:
            con.executescript(_SCHEMA)
            con.executemany("INSERT INTO meta VALUES (?, ?)",
                            [("app", APP), ("schema_version", str(SCHEMA_VERSION))])
            con.execute("INSERT INTO experiment VALUES (1, ?, ?, ?)",
                        (cfg.experiment.name, json.dumps(cfg.to_dict()), time.time()))
        return cls(path, con)

    @classmethod
    def for_experiment(cls, cfg: Config) -> "Store":
        """The experiment's store: created, or reopened when it holds this same config (to continue it)."""
        path = cfg.store_path
        if not path.exists():
            return cls.create(path, cfg)
        store = cls.open(path)
        stored = store.config()
        if stored != cfg:
            store.close()
            new, old = cfg.to_dict(), stored.to_dict()
            diff = [f"{s}.{k}: {v!r} -> {new[s][k]!r}" for s, keys in old.items() for k, v in keys.items()
                    if new[s][k] != v]
            raise StoreError(f"{path} holds experiment {cfg.experiment.name!r} with another config "
                             f"({'; '.join(diff[:3])}); set experiment.name to start another, or continue "
                             f"the stored one with `autolr-tui resume {path}`")
        return store

    def close(self) -> None:
        self.con.close()

    # -- the experiment --------------------------------------------------------------
    def config(self) -> Config:
        (text,) = self.con.execute("SELECT config FROM experiment").fetchone()
        try:
            return build_config(json.loads(text), origin=f"{self.path} (stored config)")
        except Exception as exc:
            raise StoreError(f"{self.path}: the stored config is no longer valid: {exc}") from None

    def runs(self) -> list[RunRow]:
        """The runs; a run marked running whose process is gone shows as interrupted."""
        rows = self.con.execute(
            "SELECT r.run, r.seed, r.train_seed, r.status, r.generations_done, r.best_fitness, r.best_phenotype, "
            "(SELECT count(*) FROM evaluations e WHERE e.run = r.run), r.pid FROM runs r ORDER BY r.run").fetchall()
        return [RunRow(*row[:3], "interrupted" if row[3] == "running" and not _alive(row[8]) else row[3], *row[4:8])
                for row in rows]

    def running_elsewhere(self) -> int | None:
        """The pid of another live process running this experiment, if any."""
        for (pid,) in self.con.execute("SELECT pid FROM runs WHERE status = 'running'"):
            if pid != os.getpid() and _alive(pid):
                return pid
        return None

    # -- writing, from the engine thread ----------------------------------------------
    def start_run(self, run: int, seed: int, train_seed: int) -> None:
        now = time.time()
        with self.con:
            self.con.execute("INSERT INTO runs (run, seed, train_seed, status, pid, started, updated) VALUES "
                             "(?, ?, ?, 'running', ?, ?, ?) ON CONFLICT(run) DO UPDATE SET status = 'running', "
                             "pid = excluded.pid, updated = excluded.updated",
                             (run, seed, train_seed, os.getpid(), now, now))

    def save_generation(self, run: int, generation: int, population: list[Individual], schedules: list[np.ndarray],
                        rng_state: dict[str, Any]) -> None:
        with self.con:
            self.con.execute("INSERT INTO generations (run, generation, rng_state) VALUES (?, ?, ?)",
                             (run, generation, json.dumps(rng_state)))
            self.con.executemany(
                "INSERT INTO individuals VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(run, generation, i, json.dumps(ind.genotype), json.dumps(ind.used), ind.depth, ind.phenotype,
                  np.asarray(s, np.float32).tobytes()) for i, (ind, s) in enumerate(zip(population, schedules))])

    def save_evaluation(self, run: int, generation: int, index: int, key: bytes, result: EvalResult,
                        cache_hit: bool) -> None:
        with self.con:
            if not cache_hit:
                self.con.execute(
                    "INSERT OR REPLACE INTO cache VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (key, result.fitness, result.reason, result.status, result.seconds, result.stopped_epoch,
                     json.dumps([asdict(e) for e in result.epochs])))
            self.con.execute("INSERT OR REPLACE INTO evaluations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             (run, generation, index, result.fitness, result.reason, result.status,
                              0.0 if cache_hit else result.seconds, int(cache_hit), key, time.time()))

    def finish_generation(self, run: int, generation: int, best: float, mean: float, best_fitness: float,
                          best_phenotype: str) -> None:
        with self.con:
            self.con.execute("UPDATE generations SET finished = 1, best_fitness = ?, mean_fitness = ? "
                             "WHERE run = ? AND generation = ?", (best, mean, run, generation))
            self.con.execute("UPDATE runs SET generations_done = ?, best_fitness = ?, best_phenotype = ?, "
                             "updated = ? WHERE run = ?",
                             (generation + 1, best_fitness, best_phenotype, time.time(), run))

    def set_status(self, run: int, status: str) -> None:
        with self.con:
            self.con.execute("UPDATE runs SET status = ?, updated = ? WHERE run = ?", (status, time.time(), run))

    # -- reading ---------------------------------------------------------------------
    def cached(self, key: bytes) -> EvalResult | None:
        row = self.con.execute("SELECT fitness, reason, status, seconds, stopped_epoch, epochs FROM cache "
                               "WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        epochs = tuple(EpochRecord(**e) for e in json.loads(row[5]))
        return EvalResult(row[0], row[1], epochs, row[3], row[4], row[2])

    def last_generation(self, run: int) -> SavedGeneration | None:
        row = self.con.execute("SELECT generation, rng_state FROM generations WHERE run = ? "
                               "ORDER BY generation DESC LIMIT 1", (run,)).fetchone()
        if row is None:
            return None
        generation, state = row
        rows = self.con.execute(
            "SELECT i.genotype, i.phenotype, i.depth, i.used, e.fitness FROM individuals i LEFT JOIN evaluations e "
            "ON e.run = i.run AND e.generation = i.generation AND e.idx = i.idx "
            "WHERE i.run = ? AND i.generation = ? ORDER BY i.idx", (run, generation)).fetchall()
        population = [Individual(json.loads(g), p, d, json.loads(u), f) for g, p, d, u, f in rows]
        return SavedGeneration(generation, population, json.loads(state))

    def best_so_far(self, run: int) -> tuple[str, float] | None:
        """The best evaluated policy of a run (earliest on ties)."""
        row = self.con.execute(
            "SELECT i.phenotype, e.fitness FROM evaluations e JOIN individuals i USING (run, generation, idx) "
            "WHERE e.run = ? ORDER BY e.fitness DESC, e.generation, e.idx LIMIT 1", (run,)).fetchone()
        return (row[0], row[1]) if row else None

    def policies(self, run: int | None = None) -> list[PolicyRow]:
        """Every evaluated policy, best first (ties: earliest)."""
        where, args = ("WHERE e.run = ?", (run,)) if run is not None else ("", ())
        rows = self.con.execute(
            "SELECT e.run, e.generation, e.idx, i.phenotype, i.genotype, i.schedule, e.fitness, e.reason, "
            "e.status, e.cache_hit, c.stopped_epoch, c.epochs FROM evaluations e "
            "JOIN individuals i USING (run, generation, idx) LEFT JOIN cache c ON c.key = e.cache_key "
            f"{where} ORDER BY e.fitness DESC, e.run, e.generation, e.idx", args).fetchall()
        return [PolicyRow(r, g, i, p, json.loads(gt), np.frombuffer(s, np.float32).copy(), f, reason, status,
                          bool(hit), se, tuple(EpochRecord(**e) for e in json.loads(ep or "[]")))
                for r, g, i, p, gt, s, f, reason, status, hit, se, ep in rows]

    def generation_stats(self, run: int) -> list[tuple[int, float, float]]:
        return self.con.execute("SELECT generation, best_fitness, mean_fitness FROM generations WHERE run = ? "
                                "AND finished = 1 ORDER BY generation", (run,)).fetchall()
