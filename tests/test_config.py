import tomllib
from dataclasses import fields

import pytest

from engine.config import PRESETS, SECTIONS, Config, ConfigError, build_config, load_config
from tests.conftest import ROOT


def test_shipped_autolr_toml_is_the_default_and_names_every_key():
    assert load_config(ROOT / "autolr.toml") == Config()
    data = tomllib.loads((ROOT / "autolr.toml").read_text())
    assert {s: set(v) for s, v in data.items()} == {s: {f.name for f in fields(c)} for s, c in SECTIONS.items()}


def test_readme_documents_every_key():
    readme = (ROOT / "README.md").read_text()
    for section, cls in SECTIONS.items():
        for f in fields(cls):
            assert f"`{section}.{f.name}`" in readme, f"README lacks {section}.{f.name}"


@pytest.mark.parametrize("name, epochs, early_stop", [("paper-a", 100, True), ("paper-b", 20, False)])
def test_paper_presets(name, epochs, early_stop):
    c = build_config(preset=name)
    assert (c.training.epochs, c.training.early_stop) == (epochs, early_stop)
    assert (c.training.model, c.training.batch_size, c.training.patience, c.training.initial_lr) == ("denser", 1000, 3, 0.01)
    assert (c.data.train, c.data.validation, c.data.test) == (7000, 1500, 1500)
    assert (c.data.image_size, c.data.channels, c.data.augment) == (32, 3, True)
    assert (c.evolution.population, c.evolution.generations, c.experiment.runs) == (5, 50, 10)
    assert (c.evolution.mutation_rate, c.evolution.crossover_rate, c.evolution.tournament_size) == (0.15, 0.9, 5)
    assert (c.evolution.elitism, c.evolution.init_depth, c.evolution.max_depth) == (1, 6, 17)


def test_precedence_preset_then_file_then_set():
    c = build_config({"training": {"epochs": 7, "batch_size": 10}}, preset="paper-b",
                     overrides=["training.epochs=9", "training.model=small_cnn", "evaluator.backend='dryrun'"])
    assert (c.training.epochs, c.training.batch_size, c.training.model) == (9, 10, "small_cnn")
    assert c.data.train == 7000 and c.dry_run
    assert build_config(overrides=["training.initial_lr=1"]).training.initial_lr == 1.0  # int accepted as float


@pytest.mark.parametrize("layer, overrides, words", [
    ({"trainig": {}}, [], "unknown section [trainig]"),
    ({"training": {"epoch": 3}}, [], "unknown key training.epoch"),
    ({"training": {"epochs": "3"}}, [], "training.epochs: expected an integer, got '3'"),
    ({"training": {"epochs": 2.5}}, [], "training.epochs: expected an integer"),
    ({"data": {"augment": 1}}, [], "data.augment: expected true or false"),
    ({"training": 3}, [], "training must be a table"),
    ({}, ["evolution.population=0"], "evolution.population: must be >= 1, got 0"),
    ({}, ["evolution.mutation_rate=1.5"], "evolution.mutation_rate: must be <= 1.0"),
    ({}, ["training.model=resnet"], "training.model: must be one of small_cnn, denser; got 'resnet'"),
    ({}, ["data.image_size=30"], "data.image_size: must be one of 28, 32"),
    ({}, ["evolution.elitism=5"], "evolution.elitism: must be below evolution.population (5)"),
    ({}, ["evolution.tournament_size=6"], "evolution.tournament_size: must be at most evolution.population"),
    ({}, ["evolution.init_depth=9", "evolution.max_depth=8"], "evolution.init_depth: must be at most"),
    ({}, ["evolution.max_depth=1", "evolution.init_depth=1"], "evolution.max_depth: the grammar needs at least 2"),
    ({}, ["data.train=59500"], "at most 60000 images"),
    ({}, ["experiment.name='a b'"], "experiment.name: use letters"),
    ({}, ["evolution.grammar='nope.bnf'"], "evolution.grammar: nope.bnf: no such grammar file"),
    ({}, ["training"], "expected section.key=value"),
])
def test_config_errors_are_one_line_naming_the_key(layer, overrides, words):
    with pytest.raises(ConfigError) as info:
        build_config(layer, overrides=overrides, origin="my.toml")
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_grammar_file_error_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.bnf"
    bad.write_text("<a> ::= <b>\n")
    with pytest.raises(ConfigError, match=r"evolution.grammar: .*bad.bnf:1: <b> is used"):
        build_config(overrides=[f"evolution.grammar='{bad}'"])


def test_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[training]\nepochs = \n")
    with pytest.raises(ConfigError, match=r"bad.toml: invalid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="unknown preset"):
        build_config(preset="paper-c")
    assert set(PRESETS) == {"paper-a", "paper-b"}
