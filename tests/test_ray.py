"""The Ray backend on a local Ray instance: same results as the other backends, recovery, clear errors."""

import numpy as np
import pytest

from engine.evaluators import EvaluatorError, InlineEvaluator, make_evaluators
from engine.events import EpochEnded, EvaluationFinished, RunFinished
from engine.runner import Engine


@pytest.fixture(scope="module")
def ray_local():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=150 * 1024**2)
    yield ray
    ray.shutdown()


def test_ray_evaluator_matches_inline_and_recovers_from_a_killed_actor(ray_local, tiny_config):
    cfg = tiny_config("evaluator.backend='ray'")
    (ev,) = make_evaluators(cfg)
    try:
        rates = np.array([0.05, 0.02], np.float32)
        seen = []
        r = ev.evaluate(rates, 4, lambda rec: seen.append(rec.epoch) or True)
        assert r.status == "ok" and seen == [1, 2]
        inline = InlineEvaluator(cfg).evaluate(rates, 4, lambda rec: True)
        assert r.fitness == inline.fitness and [e.loss for e in r.epochs] == [e.loss for e in inline.epochs]
        first = ev.actor
        kills = []

        def kill_once(rec):
            if not kills:
                kills.append(1)
                ray_local.kill(ev.actor)
            return True

        again = ev.evaluate(rates, 4, kill_once)
        assert again.status == "ok" and again.fitness == r.fitness and ev.actor is not first
        stopped = ev.evaluate(rates, 4, lambda rec: False)
        assert stopped.status == "stopped"
    finally:
        ev.close()
    assert ray_local.is_initialized()  # the session was the test's, not the evaluator's


def test_engine_on_ray_gives_the_same_run_as_on_a_process(ray_local, tiny_config):
    def run(backend):
        engine = Engine(tiny_config(f"evaluator.backend='{backend}'", "experiment.seed=3"))
        events = []
        engine.subscribe(events.append)
        engine.run()
        assert engine.error is None, engine.error
        assert any(isinstance(e, EpochEnded) for e in events)
        return sorted((e.generation, e.index, e.fitness) for e in events if isinstance(e, EvaluationFinished)), \
            [e for e in events if isinstance(e, RunFinished)][0].best_phenotype

    assert run("ray") == run("process")


def test_a_node_without_the_data_gives_one_clear_line(ray_local, tiny_config, tmp_path):
    cfg = tiny_config("evaluator.backend='ray'", f"data.dir='{tmp_path / 'nothing'}'")
    (ev,) = make_evaluators(cfg)
    try:
        with pytest.raises(EvaluatorError, match=r"a Ray worker could not start: .*nothing: not a folder"):
            ev.evaluate(np.full(2, 0.01, np.float32), 1, lambda rec: True)
    finally:
        ev.close()
