"""The app driven as a person would, through Textual's pilot, on dry-run engines."""

import importlib.util
import threading


from autolr_tui.app import AutoLRApp
from autolr_tui.widgets import GenerationTable
from engine.config import build_config
from engine.policy import Policy
from engine.store import Store

SIZE = (100, 30)


def dry(tmp_path, *overrides):
    return build_config(overrides=["evaluator.backend='dryrun'", f"output.dir='{tmp_path / 'runs'}'",
                                   f"output.exports='{tmp_path / 'exports'}'", *overrides])


def frozen():
    return 0.0


async def wait_for(pilot, pred, steps=200):
    for _ in range(steps):
        if pred():
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out")


def engine_threads():
    return [t for t in threading.enumerate() if t.name.startswith(("autolr-", "events->"))]


async def test_start_fills_the_table_and_finishes(tmp_path):
    app = AutoLRApp(dry(tmp_path, "evolution.generations=3"), clock=frozen)
    async with app.run_test(size=SIZE) as pilot:
        assert app.query_one("#tabs").active == "config"  # editable before the start
        await pilot.press("g")
        await wait_for(pilot, lambda: app.state == "finished")
        table = app.query_one(GenerationTable)
        assert table.row_count == 5
        assert all(table.get_cell(str(i), "fitness") for i in range(5))
        assert app.query_one("#tabs").active == "run"
        assert "FINISHED" in str(app.query_one("#header").render())
        assert len(app.best_curve) == 3
    assert Store.open(tmp_path / "runs" / "default.sqlite", readonly=True).runs()[0].status == "finished"


async def test_pause_resume_stop_and_quit_end_every_thread(tmp_path):
    app = AutoLRApp(dry(tmp_path, "evolution.generations=5000", "evolution.population=20",
                        "evolution.tournament_size=3", "training.epochs=50"), clock=frozen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        await wait_for(pilot, lambda: app.generations_done >= 1)
        await pilot.press("p")
        assert app.engine.paused and app.state == "paused"
        assert "PAUSED" in str(app.query_one("#header").render())
        await pilot.pause(0.3)
        held = app.generations_done
        await pilot.pause(0.5)
        assert app.generations_done == held  # the engine holds
        await pilot.press("p")
        assert not app.engine.paused and app.state == "running"
        await wait_for(pilot, lambda: app.generations_done > held)
        await pilot.press("q")  # asks while a run is going
        await pilot.pause(0.1)
        assert app.is_running and type(app.screen).__name__ == "ConfirmScreen"
        await pilot.press("n")
        await pilot.pause(0.1)
        assert app.state in ("running", "paused")
        await pilot.press("q", "y")
    assert app.engine.join(10)
    assert engine_threads() == []
    assert Store.open(tmp_path / "runs" / "default.sqlite", readonly=True).runs()[0].status == "stopped"


async def test_stop_key_leaves_a_resumable_run_and_open_continues_it(tmp_path):
    cfg = dry(tmp_path, "evolution.generations=3000", "evolution.population=20", "evolution.tournament_size=3")
    app = AutoLRApp(cfg, clock=frozen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        await wait_for(pilot, lambda: app.generations_done >= 2)
        await pilot.press("s")
        await wait_for(pilot, lambda: app.state == "stopped")
    path = tmp_path / "runs" / "default.sqlite"
    done = Store.open(path, readonly=True).runs()[0].generations_done
    assert 2 <= done < 3000
    reopened = AutoLRApp(Store.open(path, readonly=True).config(), store_path=path, clock=frozen)
    async with reopened.run_test(size=SIZE) as pilot:
        assert reopened.query_one("#tabs").active == "results"
        assert reopened.query_one("#results-table").row_count > 0
        assert len(reopened.best_curve) == done
        await pilot.press("g")  # continue it
        await wait_for(pilot, lambda: reopened.generations_done > done)
        await pilot.press("s")
        await wait_for(pilot, lambda: reopened.state == "stopped")
    assert Store.open(path, readonly=True).runs()[0].generations_done > done


async def test_export_from_the_results_pane_writes_a_valid_file(tmp_path):
    app = AutoLRApp(dry(tmp_path, "evolution.generations=3"), clock=frozen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        await wait_for(pilot, lambda: app.state == "finished")
        await pilot.press("2", "down")  # the second-ranked policy
        await pilot.pause(0.1)
        chosen = app._ranked[1]
        await pilot.press("e")
        await pilot.pause(0.1)
        assert type(app.screen).__name__ == "ExportScreen"
        await pilot.press("enter")
        await pilot.pause(0.2)
        files = list((tmp_path / "exports").glob("*.py"))
        assert [f.name for f in files] == [f"default-run1-g{chosen.generation + 1}-i{chosen.index + 1}.py"]
        # JSON too, to a path typed by the user
        await pilot.press("e")
        await pilot.pause(0.1)
        app.screen.query_one("#fmt-json").value = True
        await pilot.pause(0.1)
        app.screen.query_one("#path").value = str(tmp_path / "mine" / "best.json")
        await pilot.press("enter")
        await pilot.pause(0.2)
    spec = importlib.util.spec_from_file_location("exported", files[0])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.PHENOTYPE == chosen.phenotype
    assert module.schedule() == [float(x) for x in Policy.parse(chosen.phenotype).schedule(10, 0.01)]
    import json

    assert json.loads((tmp_path / "mine" / "best.json").read_text())["phenotype"] == chosen.phenotype


async def test_config_errors_show_beside_the_field_and_block_the_start(tmp_path):
    app = AutoLRApp(dry(tmp_path), clock=frozen)
    async with app.run_test(size=SIZE) as pilot:
        field = app.query_one("#cfg-evolution-population")
        field.value = "0"
        await pilot.pause(0.1)
        assert "must be >= 1, got 0" in str(app.query_one("#err-evolution-population").render())
        await pilot.press("ctrl+g")
        await pilot.pause(0.1)
        assert app.engine is None and app.state == "ready"
        field.value = "7"
        app.query_one("#cfg-evolution-generations").value = "2"
        await pilot.pause(0.1)
        assert str(app.query_one("#err-evolution-population").render()) == ""
        await pilot.press("ctrl+g")  # works while a field has the focus
        await wait_for(pilot, lambda: app.state == "finished")
        assert app.query_one(GenerationTable).row_count == 7
        assert app.query_one("#cfg-evolution-population").disabled  # read-only during and after a run


async def test_command_palette_and_help(tmp_path):
    app = AutoLRApp(dry(tmp_path), clock=frozen)
    async with app.run_test(size=SIZE) as pilot:
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Start", "Pause / resume", "Stop", "Export policy"} <= set(titles)
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert type(app.screen).__name__ != "HelpScreen"


async def test_starting_an_experiment_that_already_finished_reports_it(tmp_path):
    cfg = dry(tmp_path, "evolution.generations=2")
    for attempt in range(2):  # the second app finds the finished store of the first
        app = AutoLRApp(cfg, clock=frozen)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("g")
            await wait_for(pilot, lambda: app.state == "finished")
            assert "run 1 finished" in "\n".join(str(line.text) for line in app.query_one("#log").lines)
    assert Store.open(tmp_path / "runs" / "default.sqlite", readonly=True).runs()[0].evaluations == 10


async def test_the_dashboard_keeps_updating_behind_a_dialog(tmp_path):
    app = AutoLRApp(dry(tmp_path, "evolution.generations=300", "evolution.population=20",
                        "evolution.tournament_size=3"), clock=frozen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        await pilot.press("question_mark")  # events and the header timer keep coming while help is open
        await pilot.pause(1.5)
        assert type(app.screen).__name__ == "HelpScreen"
        done = app.generations_done
        await wait_for(pilot, lambda: app.generations_done > done)
        await pilot.press("escape", "s")
        await wait_for(pilot, lambda: app.state in ("stopped", "finished"))
