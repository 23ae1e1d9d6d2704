"""The process evaluator and the engine driving real trainings in a worker process."""

import os
import signal
import time

import numpy as np
import pytest

from engine.evaluators import InlineEvaluator, ProcessEvaluator
from engine.events import EpochEnded, EvaluationFinished, RunFinished, RunPaused, RunResumed
from engine.runner import Engine


@pytest.fixture(scope="module")
def worker(tmp_path_factory, data_dir):
    from engine.config import build_config
    from tests.conftest import TINY

    out = tmp_path_factory.mktemp("runs")
    cfg = build_config(overrides=[*TINY, "training.epochs=6", f"data.dir='{data_dir}'", f"output.dir='{out}'"])
    ev = ProcessEvaluator(cfg)
    yield ev
    ev.close()


def always(record):
    return True


def test_process_matches_inline_and_keeps_tensorflow_output_in_its_log(worker, capfd):
    rates = np.array([0.05, 0.05, 0.02, 0.02, 0.01, 0.01], np.float32)
    seen = []
    r = worker.evaluate(rates, 3, lambda rec: seen.append(rec) or True)
    assert r.status == "ok" and 0 < r.fitness <= 1
    assert [e.epoch for e in seen] == [1, 2, 3, 4, 5, 6]  # epochs stream back while it trains
    assert capfd.readouterr() == ("", "")  # nothing of TensorFlow's reached the terminal ...
    log = worker.log_path.read_text()
    assert f"worker {worker.pid} starting" in log and "cuda" in log.lower()  # ... it is in the log
    inline = InlineEvaluator(worker.cfg).evaluate(rates, 3, always)
    assert inline.fitness == r.fitness
    assert [e.loss for e in inline.epochs] == [e.loss for e in r.epochs]


def test_killed_worker_is_restarted_and_the_evaluation_retried(worker):
    first_pid = worker.pid
    kills = []

    def kill_once(rec):
        if not kills:
            kills.append(worker.pid)
            os.kill(worker.pid, signal.SIGKILL)
        return True

    r = worker.evaluate(np.full(6, 0.01, np.float32), 3, kill_once)
    assert r.status == "ok" and len(r.epochs) == 6
    assert kills == [first_pid] and worker.pid not in (None, first_pid)


def test_a_worker_that_dies_twice_is_recorded_as_failed(worker):
    r = worker.evaluate(np.full(6, 0.01, np.float32), 3, lambda rec: os.kill(worker.pid, signal.SIGKILL) or True)
    assert r.status == "failed" and r.fitness == 0.0
    assert "the worker died twice (exit code -9" in r.reason


def _engine(worker, *overrides):
    from engine.config import build_config
    from tests.conftest import TINY

    cfg = build_config(overrides=[*TINY, "training.epochs=6", f"data.dir='{worker.cfg.data.dir}'", *overrides])
    engine = Engine(cfg, evaluator=worker)
    events = []
    engine.subscribe(events.append)
    return engine, events


def _wait(pred, timeout=60):
    end = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def test_pause_holds_training_at_an_epoch_boundary_and_resume_continues(worker):
    engine, events = _engine(worker, "evolution.generations=1")
    engine.start()
    _wait(lambda: any(isinstance(e, EpochEnded) for e in events))
    engine.pause()
    assert engine.paused
    time.sleep(0.5)  # the epoch running when pause was asked may still end
    held = sum(isinstance(e, EpochEnded) for e in events)
    time.sleep(1.5)
    assert sum(isinstance(e, EpochEnded) for e in events) == held
    assert not any(isinstance(e, RunFinished) for e in events)
    engine.resume()
    assert engine.join(120)
    kinds = [type(e) for e in events]
    assert kinds.index(RunPaused) < kinds.index(RunResumed)
    done = [e for e in events if isinstance(e, RunFinished)]
    assert len(done) == 1 and not done[0].stopped


def test_stop_ends_the_training_within_an_epoch(worker):
    engine, events = _engine(worker, "evolution.generations=3")
    engine.start()
    _wait(lambda: any(isinstance(e, EpochEnded) for e in events))
    engine.stop()
    assert engine.join(30)
    epochs = sum(isinstance(e, EpochEnded) for e in events)
    assert epochs <= 3
    done = [e for e in events if isinstance(e, RunFinished)]
    assert len(done) == 1 and done[0].stopped and engine.error is None
    assert worker.pid is not None  # a stop keeps the worker for the next run


class Counting:
    def __init__(self, inner):
        self.inner, self.calls, self.label = inner, 0, inner.label

    def evaluate(self, rates, seed, on_epoch):
        self.calls += 1
        return self.inner.evaluate(rates, seed, on_epoch)

    def close(self):
        pass


def test_two_phenotypes_with_the_same_schedule_are_trained_once(tiny_config, tmp_path):
    grammar = tmp_path / "two.bnf"
    # with 2 epochs both policies give 0.05, 0.05
    grammar.write_text("<s> ::= 0.05 | if_func(epoch > 50, 0.0001, 0.05)\n")
    cfg = tiny_config(f"evolution.grammar='{grammar}'", "evolution.max_depth=3", "evolution.init_depth=2",
                      "evaluator.backend='inline'")
    counting = Counting(InlineEvaluator(cfg))
    engine = Engine(cfg, evaluator=counting)
    events = []
    engine.subscribe(events.append)
    engine.run()
    finished = [e for e in events if isinstance(e, EvaluationFinished)]
    assert len(finished) == 6 and len({e.phenotype for e in finished}) == 2
    assert counting.calls == 1
    assert sum(not e.cache_hit for e in finished) == 1
    assert len({e.fitness for e in finished}) == 1


def test_same_seed_same_fitnesses_through_the_engine(tiny_config):
    def fitnesses():
        cfg = tiny_config("evaluator.backend='inline'", "experiment.seed=9")
        engine = Engine(cfg)
        events = []
        engine.subscribe(events.append)
        engine.run()
        return [(e.phenotype, e.fitness) for e in events if isinstance(e, EvaluationFinished)]

    a = fitnesses()
    assert len(a) == 6 and a == fitnesses()
