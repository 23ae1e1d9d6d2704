"""The run store, resume after a kill, signals, and bad store files (through the real command)."""

import json
import os
import signal
import sqlite3
import subprocess
import time

import pytest

from engine.store import Store, StoreError
from tests.test_cli import EXE, cli

BIG = ["--dry-run", "--set", "evolution.population=200", "--set", "evolution.generations=40",
       "--set", "training.epochs=30", "--seed", "5"]


def contents(path):
    """Everything a run decided (populations, fitnesses, best), without timings."""
    con = sqlite3.connect(path)
    try:
        return {
            "individuals": con.execute("SELECT run, generation, idx, genotype, phenotype FROM individuals "
                                       "ORDER BY run, generation, idx").fetchall(),
            "evaluations": con.execute("SELECT run, generation, idx, fitness, status FROM evaluations "
                                       "ORDER BY run, generation, idx").fetchall(),
            "runs": con.execute("SELECT run, status, generations_done, best_fitness, best_phenotype FROM runs")
            .fetchall(),
        }
    finally:
        con.close()


def _evaluations(path):
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return con.execute("SELECT count(*) FROM evaluations").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    d = tmp_path_factory.mktemp("whole")
    out = cli("run", *BIG, cwd=d)
    assert out.returncode == 0, out.stderr
    return contents(d / "runs" / "default.sqlite")


def _start(d):
    return subprocess.Popen([EXE, "run", *BIG], cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_killed_mid_generation_then_resumed_ends_identical(tmp_path, uninterrupted):
    for attempt in range(5):
        d = tmp_path / f"try{attempt}"
        d.mkdir()
        store = d / "runs" / "default.sqlite"
        proc = _start(d)
        deadline = time.monotonic() + 60
        while _evaluations(store) < 500 + 37 * attempt:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        done = _evaluations(store)
        if done % 200:  # mid-generation
            break
    else:
        pytest.fail("could not kill the run mid-generation")
    assert len(uninterrupted["evaluations"]) > done
    listed = json.loads(cli("runs", str(store), "--json", cwd=d).stdout)
    assert listed["runs"][0]["status"] == "interrupted"
    assert listed["runs"][0]["evaluations"] == done
    resumed = cli("resume", str(store), "--json", cwd=d)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed at generation" in resumed.stdout
    assert contents(store) == uninterrupted
    # no finished evaluation was redone: every generation has each individual evaluated exactly once
    assert len(contents(store)["evaluations"]) == 40 * 200


def test_sigterm_stops_cleanly_and_leaves_a_resumable_store(tmp_path, uninterrupted):
    store = tmp_path / "runs" / "default.sqlite"
    proc = subprocess.Popen([EXE, "run", *BIG], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 60
    while _evaluations(store) < 300:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopped after" in out and f"autolr-tui resume {os.path.join('runs', 'default.sqlite')}" in out
    assert Store.open(store, readonly=True).runs()[0].status == "stopped"
    assert cli("resume", str(store), cwd=tmp_path).returncode == 0
    assert contents(store) == uninterrupted


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    d = tmp_path_factory.mktemp("small")
    assert cli("run", "--dry-run", "--seed", "3", cwd=d).returncode == 0
    return d / "runs" / "default.sqlite"


def _bad_store_refused(tmp_path, data: bytes, words: str):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(data)
    for args in (["runs", str(bad)], ["resume", str(bad)], ["export", str(bad)]):
        out = cli(*args, cwd=tmp_path)
        assert out.returncode == 2, out
        assert out.stderr.count("\n") == 1 and words in out.stderr, out.stderr
        assert bad.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.sqlite"]  # no -wal/-shm left behind


def test_truncated_store_is_refused_untouched(tmp_path, small_store):
    data = small_store.read_bytes()
    _bad_store_refused(tmp_path, data[: len(data) // 3], "bad.sqlite: not an autolr-tui run store")
    _bad_store_refused(tmp_path, data[:60], "bad.sqlite: not an autolr-tui run store")


def _sqlite_bytes(path, start: bytes, *statements: str) -> bytes:
    """The bytes of an SQLite file made from ``start`` (may be empty) and ``statements``; the file is removed."""
    path.write_bytes(start)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=DELETE")
    for statement in statements:
        con.execute(statement)
    con.commit()
    con.close()
    data = path.read_bytes()
    path.unlink()
    return data


def test_foreign_and_newer_stores_are_refused_untouched(tmp_path, small_store):
    foreign = _sqlite_bytes(tmp_path / "f.sqlite", b"", "CREATE TABLE meta (key TEXT, value TEXT)",
                            "INSERT INTO meta VALUES ('app', 'something-else')")
    _bad_store_refused(tmp_path, foreign, "not an autolr-tui run store")
    newer = _sqlite_bytes(tmp_path / "n.sqlite", small_store.read_bytes(),
                          "UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    _bad_store_refused(tmp_path, newer, "written by a newer autolr-tui (store schema 99")
    _bad_store_refused(tmp_path, b"hello, I am a text file" * 10, "not an autolr-tui run store")


def test_missing_store_and_different_config(tmp_path, small_store):
    out = cli("runs", str(tmp_path / "none.sqlite"), cwd=tmp_path)
    assert out.returncode == 2 and "none.sqlite: no such run store" in out.stderr
    d = small_store.parent.parent
    before = small_store.read_bytes()
    other = cli("run", "--dry-run", "--seed", "4", cwd=d)
    assert other.returncode == 2
    assert "holds experiment 'default' with another config (experiment.seed: 3 -> 4)" in other.stderr
    assert small_store.read_bytes() == before
    with pytest.raises(StoreError, match="already exists"):
        Store.create(small_store, None)


def test_runs_lists_progress(small_store):
    out = cli("runs", str(small_store), cwd=small_store.parent)
    assert out.returncode == 0
    assert "run 1  finished    gen 20/20  evals 100  best 0." in out.stdout
