"""Every export format round-trips; the Python file needs nothing from this project."""

import csv
import io
import json
import subprocess
import sys

import numpy as np
import pytest

from engine.export import ExportError, read_json_policy
from engine.policy import Policy
from engine.store import Store
from tests.test_cli import cli


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    d = tmp_path_factory.mktemp("exp")
    assert cli("run", "--dry-run", "--seed", "7", "--set", "training.epochs=30", "--set",
               "evolution.generations=10", cwd=d).returncode == 0
    return d / "runs" / "default.sqlite"


def _nested(store):
    """A policy with conditions on both epoch and learning rate, as G.I."""
    rows = Store.open(store, readonly=True).policies()
    row = max(rows, key=lambda r: (("epoch" in r.phenotype) + ("learning_rate" in r.phenotype), r.phenotype.count("if_func")))
    assert "if_func" in row.phenotype
    return row, f"{row.generation + 1}.{row.index + 1}"


def test_python_export_gives_exactly_the_engines_rates_in_a_fresh_interpreter(store, tmp_path):
    row, gi = _nested(store)
    out = tmp_path / "policy.py"
    r = cli("export", str(store), "--individual", gi, "-o", str(out), cwd=tmp_path)
    assert r.returncode == 0 and str(out) in r.stdout
    code = ("import importlib.util, json, sys\n"
            f"spec = importlib.util.spec_from_file_location('p', {str(out)!r})\n"
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
            "print(json.dumps([m.PHENOTYPE, m.schedule(), m.schedule(45, 0.05), sorted(sys.modules)]))")
    fresh = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert fresh.returncode == 0, fresh.stderr
    phenotype, rates, longer, modules = json.loads(fresh.stdout)
    assert phenotype == row.phenotype
    assert rates == [float(x) for x in row.schedule] and len(rates) == 30
    assert longer == [float(x) for x in Policy.parse(phenotype).schedule(45, 0.05)]
    assert not {"engine", "autolr_tui", "numpy"} & {m.split(".")[0] for m in modules}


def test_python_export_keras_callback(store, tmp_path):
    row, gi = _nested(store)
    out = tmp_path / "policy.py"
    assert cli("export", str(store), "--individual", gi, "-o", str(out), cwd=tmp_path).returncode == 0
    code = ("import importlib.util, json\n"
            f"spec = importlib.util.spec_from_file_location('p', {str(out)!r})\n"
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
            "cb = m.keras_scheduler(); lr = m._float32(m.INITIAL_LR); seen = []\n"
            "for epoch in range(30):\n"
            "    lr = m._float32(cb.schedule(epoch, lr)); seen.append(lr)\n"
            "print(json.dumps([type(cb).__name__, seen]))")
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                           env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": ""})
    assert fresh.returncode == 0, fresh.stderr
    name, seen = json.loads(fresh.stdout.splitlines()[-1])
    assert name == "LearningRateScheduler" and seen == [float(x) for x in row.schedule]


def test_json_and_csv_round_trip(store, tmp_path):
    row, gi = _nested(store)
    js = cli("export", str(store), "--individual", gi, "--format", "json", "-o", "-", cwd=tmp_path)
    assert js.returncode == 0
    data = json.loads(js.stdout)
    policy, rates = read_json_policy(js.stdout, "x.json")
    assert policy.text == row.phenotype and rates == [float(x) for x in row.schedule]
    assert policy.schedule(30, data["initial_lr"]).tolist() == rates
    assert data["genotype"] == row.genotype and data["fitness"] == row.fitness
    assert data["config"]["training"]["epochs"] == 30 and data["fitness_meaning"] == "dry-run surrogate"
    assert len(data["epochs"]) in (0, len(rates)) or data["status"] != "ok"
    c = cli("export", str(store), "--individual", gi, "--format", "csv", "-o", "-", cwd=tmp_path)
    table = list(csv.DictReader(io.StringIO(c.stdout)))
    assert [int(t["epoch"]) for t in table] == list(range(1, 31))
    assert [float(t["rate"]) for t in table] == rates


def test_default_export_is_the_best_into_the_exports_folder(store, tmp_path):
    r = cli("export", str(store), cwd=tmp_path)
    assert r.returncode == 0
    files = list((tmp_path / "exports").iterdir())
    assert len(files) == 1 and files[0].suffix == ".py"
    best = Store.open(store, readonly=True).policies()[0]
    assert files[0].name == f"default-run1-g{best.generation + 1}-i{best.index + 1}.py"
    assert f"(fitness {best.fitness:.4f})" in r.stdout


@pytest.mark.parametrize("args, words", [
    (["--individual", "99.1"], "no individual 99.1"),
    (["--individual", "x"], "expected GENERATION.INDEX"),
    (["--run", "3"], "no evaluated policy in run 3"),
    (["--format", "xml"], "invalid choice: 'xml'"),
])
def test_export_errors(store, tmp_path, args, words):
    r = cli("export", str(store), *args, cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and words in r.stderr, r.stderr


def test_reading_a_bad_exported_file():
    with pytest.raises(ExportError, match="f.json: not JSON"):
        read_json_policy("{", "f.json")
    with pytest.raises(ExportError, match="not an exported autolr-tui policy"):
        read_json_policy("{}", "f.json")
    with pytest.raises(ExportError, match="malformed policy"):
        read_json_policy(json.dumps({"format": "autolr-tui policy", "phenotype": "exec()", "rates": []}), "f.json")


def test_pytorch_adapter_gives_the_rates(store, tmp_path):
    """LambdaLR multiplies each group's starting rate by the factor; a stand-in records the factors."""
    row, gi = _nested(store)
    out = tmp_path / "policy.py"
    assert cli("export", str(store), "--individual", gi, "-o", str(out), cwd=tmp_path).returncode == 0
    fake = tmp_path / "fake" / "torch" / "optim"
    fake.mkdir(parents=True)
    (fake.parent / "__init__.py").write_text("")
    (fake / "__init__.py").write_text("")
    (fake / "lr_scheduler.py").write_text(
        "class LambdaLR:\n    def __init__(self, optimizer, lr_lambda):\n        self.lr_lambdas = lr_lambda\n")
    code = ("import importlib.util, json, sys\n"
            f"sys.path.insert(0, {str(fake.parent.parent)!r})\n"
            f"spec = importlib.util.spec_from_file_location('p', {str(out)!r})\n"
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
            "class Opt: param_groups = [{'lr': 0.01}, {'lr': 0.5}]\n"
            "s = m.torch_lambda_lr(Opt())\n"
            "print(json.dumps([[f(k) * g['lr'] for k in range(30)] for f, g in zip(s.lr_lambdas, Opt.param_groups)]))")
    fresh = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert fresh.returncode == 0, fresh.stderr
    for rates in json.loads(fresh.stdout):
        assert np.allclose(rates, row.schedule.astype(float), rtol=1e-12, atol=0)
