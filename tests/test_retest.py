"""`autolr-tui retest`: the paper's testing routine on a found policy against the baseline."""

import json

import pytest

from engine.store import Store
from tests.test_cli import cli

TINY = ["--set", "data.train=300", "--set", "data.validation=100", "--set", "data.test=100",
        "--set", "training.epochs=2", "--set", "evolution.generations=1", "--set", "evolution.population=2",
        "--set", "evolution.tournament_size=2"]
ROUTINE = ["--repeats", "2", "--set", "data.routine_train=500", "--set", "data.routine_validation=200"]


@pytest.fixture(scope="module")
def store(tmp_path_factory, data_dir):
    d = tmp_path_factory.mktemp("retest")
    assert cli("run", *TINY, "--set", f"data.dir='{data_dir}'", cwd=d).returncode == 0
    return d / "runs" / "default.sqlite"


def test_retest_compares_the_best_policy_with_the_baseline(store):
    best = Store.open(store, readonly=True).policies()[0]
    out = cli("retest", str(store), *ROUTINE, "--json", cwd=store.parent, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "500/200 images + the official 10,000 test images, 2 epochs, 2 repeats" in out.stdout
    data = json.loads(out.stdout.splitlines()[-1])
    policy, baseline = data["results"]
    assert (policy["label"], policy["phenotype"]) == ("policy", best.phenotype)
    assert (baseline["label"], baseline["phenotype"]) == ("baseline", "0.01")
    for r in (policy, baseline):
        assert len(r["test"]) == 2 and len(r["best_validation"]) == 2
        assert all(0 < x <= 1 for x in r["test"] + r["best_validation"])
        assert r["test_mean"] == pytest.approx(sum(r["test"]) / 2)
    assert data["config"]["data"]["split"] == "routine"
    assert "Traceback" not in out.stderr and "tensorflow" not in out.stdout.lower()


def test_repeats_are_paired_same_seed_for_policy_and_baseline(store):
    best = Store.open(store, readonly=True).policies()[0]
    out = cli("retest", str(store), *ROUTINE, "--baseline", best.phenotype, "--json", cwd=store.parent, timeout=300)
    policy, baseline = json.loads(out.stdout.splitlines()[-1])["results"]
    assert policy["test"] == baseline["test"]  # same schedule, same seeds: same trainings
    assert policy["test"][0] != policy["test"][1]  # repeats differ from each other


@pytest.mark.parametrize("args, words", [
    (["--baseline", "exec()"], "expected a number or if_func"),
    (["--set", "data.routine_train=59000"], "data.routine_train + data.routine_validation: at most 60000"),
    (["--individual", "9.9"], "no individual 9.9"),
    (["--set", "data.dir='/nowhere'"], "/nowhere: not a folder"),
])
def test_retest_errors(store, args, words):
    out = cli("retest", str(store), *args, cwd=store.parent)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and words in out.stderr, out.stderr


def test_a_dry_run_experiment_cannot_be_retested_as_is(tmp_path):
    assert cli("run", "--dry-run", "--set", "evolution.generations=1", cwd=tmp_path).returncode == 0
    out = cli("retest", "runs/default.sqlite", cwd=tmp_path)
    assert out.returncode == 2 and "this experiment was a dry run" in out.stderr
