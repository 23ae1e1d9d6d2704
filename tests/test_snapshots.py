"""Snapshots of the screens (pytest-textual-snapshot): update with `pytest --snapshot-update` after a deliberate change."""

import pytest

from autolr_tui.app import AutoLRApp
from engine.config import build_config

SIZE = (100, 30)


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative output paths: the same screen wherever the test runs
    cfg = build_config(overrides=["evaluator.backend='dryrun'", "evolution.generations=4", "experiment.seed=11"])
    return AutoLRApp(cfg, clock=lambda: 0.0)


async def finished(pilot):
    await pilot.press("g")
    for _ in range(200):
        if pilot.app.state == "finished":
            break
        await pilot.pause(0.05)
    await pilot.pause(0.2)


def test_main_screen(app, snap_compare):
    assert snap_compare(app, terminal_size=SIZE, run_before=finished)


def test_results_pane(app, snap_compare):
    async def results(pilot):
        await finished(pilot)
        await pilot.press("2", "down", "down")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=results)


def test_config_error(app, snap_compare):
    async def bad_value(pilot):
        field = pilot.app.query_one("#cfg-training-epochs")
        field.focus()  # scrolls the form to it
        field.value = "ten"
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=bad_value)


def test_main_screen_80x24_no_color(app, snap_compare, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(app, terminal_size=(80, 24), run_before=finished)
