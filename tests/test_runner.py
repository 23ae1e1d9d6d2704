"""The engine thread: events, commands from other threads, subscribers that misbehave."""

import threading
import time


from engine.config import build_config
from engine.events import (EvaluationFinished, EvaluationStarted, GenerationFinished,
                           GenerationStarted, RunFinished, RunPaused, RunResumed)
from engine.runner import Engine


def dry(*overrides):
    return build_config(overrides=["evaluator.backend='dryrun'", "evolution.generations=3",
                                   "training.epochs=4", *overrides])


def collect(engine):
    events = []
    engine.subscribe(events.append)
    return events


def test_event_order_of_a_dry_run():
    engine = Engine(dry())
    events = collect(engine)
    engine.run()
    kinds = [type(e).__name__ for e in events]
    assert kinds[:2] == ["RunStarted", "Log"] and kinds[-1] == "RunFinished"
    assert kinds.count("GenerationStarted") == kinds.count("GenerationFinished") == 3
    assert kinds.count("EvaluationFinished") == 15
    # inside a generation: started, then per individual (started, epochs, finished) or a cache hit
    gen = []
    for e in events[2:-1]:
        if isinstance(e, GenerationStarted):
            gen = [e]
        elif isinstance(e, GenerationFinished):
            finished = [x for x in gen if isinstance(x, EvaluationFinished)]
            assert sorted(x.index for x in finished) == list(range(5))  # each individual once
            for f in finished:
                trained = [x for x in gen if getattr(x, "index", None) == f.index and not isinstance(x, EvaluationFinished)]
                if f.cache_hit:
                    assert trained == []
                else:
                    assert isinstance(trained[0], EvaluationStarted)
                    assert [x.record.epoch for x in trained[1:]] == list(range(1, f.epochs_trained + 1))
                    assert f.epochs_trained == 4 or f.reason.startswith("diverged")
            assert e.best_fitness == max(f.fitness for f in finished)
        else:
            gen.append(e)
    assert events[-1].best_fitness == max(e.best_fitness for e in events if isinstance(e, GenerationFinished))


def test_pause_resume_and_stop_from_other_threads():
    engine = Engine(dry("evolution.generations=50"))
    events = collect(engine)
    paused_at = threading.Event()

    def pause_early(event):
        if isinstance(event, EvaluationFinished) and not paused_at.is_set():
            engine.pause()
            paused_at.set()

    engine.subscribe(pause_early)
    engine.start()
    assert paused_at.wait(10)
    time.sleep(0.3)
    n = len(events)
    time.sleep(0.5)
    assert len(events) == n and engine.paused  # held
    assert isinstance(events[-1], RunPaused) or any(isinstance(e, RunPaused) for e in events)
    threading.Thread(target=engine.resume).start()
    time.sleep(0.05)
    threading.Thread(target=engine.stop).start()
    assert engine.join(10)
    assert any(isinstance(e, RunResumed) for e in events)
    done = events[-1]
    assert isinstance(done, RunFinished) and done.stopped and done.generations_done < 50


def test_a_raising_or_slow_subscriber_never_stalls_the_engine():
    engine = Engine(dry())
    events = collect(engine)

    def broken(event):
        raise RuntimeError("subscriber bug")

    def slow(event):
        time.sleep(0.5)

    engine.subscribe(broken)
    engine.subscribe(slow)
    start = time.monotonic()
    thread = engine.start()
    # the loop itself ends long before the slow subscriber has seen its events
    while not any(isinstance(e, RunFinished) for e in events):
        assert time.monotonic() - start < 5
        time.sleep(0.01)
    assert time.monotonic() - start < 5
    assert engine.error is None
    thread.join(0)


def test_same_seed_same_run_and_runs_get_their_own_seeds():
    def summaries(seed):
        return [(s.best_phenotype, s.best_fitness) for s in Engine(dry("experiment.runs=2", f"experiment.seed={seed}")).run()]

    a = summaries(3)
    assert a == summaries(3)
    assert a != summaries(4)
    assert len(a) == 2


def test_several_workers_give_the_same_results_as_one():
    from engine.evaluators import DryRunEvaluator

    class Slow(DryRunEvaluator):
        """A dry-run fitness that takes a little time, so evaluations overlap."""

        def __init__(self, cfg, calls):
            super().__init__(cfg)
            self.calls = calls

        def evaluate(self, rates, seed, on_epoch):
            self.calls.append(threading.current_thread().name)
            time.sleep(0.002)
            return super().evaluate(rates, seed, on_epoch)

    def outcome(workers):
        cfg = dry("evolution.population=12", "evolution.tournament_size=3", "evolution.generations=4")
        calls = []
        engine = Engine(cfg, evaluator=[Slow(cfg, calls) for _ in range(workers)])
        events = collect(engine)
        engine.run()
        finished = sorted((e.generation, e.index, e.phenotype, e.fitness) for e in events
                          if isinstance(e, EvaluationFinished))
        return finished, calls, [e for e in events if isinstance(e, RunFinished)][0]

    one, calls1, done1 = outcome(1)
    three, calls3, done3 = outcome(3)
    assert one == three and (done1.best_phenotype, done1.best_fitness) == (done3.best_phenotype, done3.best_fitness)
    assert len(calls1) == len(calls3)  # the same schedules trained, each once
    assert len(set(calls3)) > 1  # on more than one worker thread
