"""The installed `autolr-tui` command, run as a user would."""

import json
import os
import shutil
import subprocess

import pytest

EXE = shutil.which("autolr-tui")


def cli(*args, cwd, timeout=120):
    assert EXE, "autolr-tui is not installed (pip install .[test])"
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([EXE, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def test_help_lists_the_commands(tmp_path):
    out = cli("--help", cwd=tmp_path)
    assert out.returncode == 0
    commands = out.stdout.split("positional arguments:")[1].split("options:")[0]
    for name in ("run", "resume", "open", "runs", "export"):
        assert f"\n    {name} " in commands, name
    assert "--preset" in out.stdout and "--set" in out.stdout and "--dry-run" in out.stdout


def test_dry_run_json_is_the_same_every_time(tmp_path):
    for d in "abc":
        (tmp_path / d).mkdir()
    # fresh folders, so the second run evolves again instead of reading the first one's store
    runs = [cli("run", "--dry-run", "--seed", "1", "--json", cwd=tmp_path / d) for d in "ab"]
    for r in runs:
        assert r.returncode == 0, r.stderr
    summaries = [json.loads(r.stdout.strip().splitlines()[-1]) for r in runs]
    assert summaries[0] == summaries[1]
    s = summaries[0]
    assert s["seed"] == 1 and s["generations"] == 20 and s["fitness"] == "dry-run surrogate"
    assert 0 < s["best_fitness"] <= 1 and s["best_phenotype"]
    lines = runs[0].stdout.splitlines()
    assert sum(" gen " in line for line in lines) == 20
    assert "dry run" in runs[0].stdout
    other = json.loads(cli("run", "--dry-run", "--seed", "2", "--json", "--set", "evolution.generations=7",
                           cwd=tmp_path / "c").stdout.splitlines()[-1])
    assert other["generations"] == 7 and other["seed"] == 2
    again = cli("run", "--dry-run", "--seed", "1", "--json", cwd=tmp_path / "a")  # the finished store answers
    assert json.loads(again.stdout.splitlines()[-1]) == summaries[0]


def test_reads_autolr_toml_from_the_working_folder(tmp_path):
    (tmp_path / "autolr.toml").write_text("[evolution]\ngenerations = 3\n")
    out = cli("run", "--dry-run", "--json", cwd=tmp_path)
    assert json.loads(out.stdout.splitlines()[-1])["generations"] == 3
    out = cli("run", "--set", "experiment.name=b", "--dry-run", "--json", "--preset", "paper-b", "--set", "evolution.generations=2",
              "--set", "experiment.runs=3", cwd=tmp_path)
    summary = json.loads(out.stdout.splitlines()[-1])
    assert summary["generations"] == 6 and len(summary["runs"]) == 3  # generations across runs


@pytest.mark.parametrize("args, words", [
    (["run", "--set", "evolution.population=0"], "evolution.population: must be >= 1"),
    (["run", "--set", "nope.key=1"], "unknown section [nope]"),
    (["run", "--config", "missing.toml"], "missing.toml: config file not found"),
    (["run", "--preset", "paper-z"], "invalid choice: 'paper-z'"),
    (["run", "--seed", "abc"], "argument --seed: invalid int value"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["run", "--set", "evolution.grammar='bad.bnf'"], "bad.bnf:1: <b> is used"),
    (["run", "--config", "broken.toml"], "broken.toml: invalid TOML"),
])
def test_bad_input_gives_one_line_and_exit_2(tmp_path, args, words):
    (tmp_path / "bad.bnf").write_text("<a> ::= <b>\n")
    (tmp_path / "broken.toml").write_text("[training\n")
    out = cli(*args, "--dry-run", cwd=tmp_path)
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.count("\n") == 1 and words in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


def test_real_training_run_and_a_bad_data_folder(tmp_path, data_dir):
    tiny = ["--set", "data.train=300", "--set", "data.validation=100", "--set", "data.test=100",
            "--set", "training.epochs=1", "--set", "evolution.generations=1", "--set", "evolution.population=2",
            "--set", "evolution.tournament_size=2"]
    ok = cli("run", *tiny, "--set", f"data.dir='{data_dir}'", "--json", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    summary = json.loads(ok.stdout.splitlines()[-1])
    assert summary["fitness"] == "test accuracy" and 0 < summary["best_fitness"] <= 1
    assert "Traceback" not in ok.stderr and "tensorflow" not in (ok.stdout + ok.stderr).lower()
    (tmp_path / "empty").mkdir()
    bad = cli("run", *tiny, "--set", f"data.dir='{tmp_path / 'empty'}'", "--set", "experiment.name=bad",
              cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "empty: missing train-images-idx3-ubyte.gz" in bad.stderr, bad.stderr


def test_second_interrupt_ends_the_training_at_once(tmp_path, data_dir):
    import signal
    import time

    args = [EXE, "run", "--set", "data.train=2000", "--set", "data.validation=100", "--set", "data.test=100",
            "--set", "training.epochs=50", "--set", "training.batch_size=20", "--set", "evolution.generations=5",
            "--set", f"data.dir='{data_dir}'"]
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = tmp_path / "runs" / "logs" / "worker-0.log"
    deadline = time.monotonic() + 90
    while not (log.exists() and "starting" in log.read_text()):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.2)
    time.sleep(8)  # into the first (long: 50 epochs) training
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    start = time.monotonic()
    out, err = proc.communicate(timeout=30)
    assert time.monotonic() - start < 15
    assert proc.returncode == 0, err
    assert "again to stop now" in err and "Traceback" not in err
    assert "autolr-tui resume" in out
    listed = json.loads(cli("runs", "runs/default.sqlite", "--json", cwd=tmp_path).stdout)
    assert listed["runs"][0]["status"] == "stopped"
