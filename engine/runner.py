"""The engine: runs the SGE loop over an evaluator and emits events.

``Engine.start()`` runs the experiment in a background thread; ``run()`` runs it
in the calling thread. ``pause``/``resume``/``stop`` may be called from any
thread: pause holds at the next epoch boundary (or between evaluations), stop
ends the current training within an epoch and finishes the run as stopped.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace

import numpy as np

from .cache import ScheduleCache, training_digest
from .config import Config
from .data import DataError
from .control import Control
from .evaluators import Evaluator, EvaluatorError, make_evaluators
from .events import (EpochEnded, EpochRecord, EvaluationFinished, EvaluationStarted, Event, EventBus,
                     GenerationFinished, GenerationStarted, Log, RunFailed, RunFinished, RunPaused, RunResumed,
                     RunStarted, Subscriber)
from .grammar import load_grammar
from .policy import Policy
from .results import EvalResult
from .sge import Individual, SGEParams, initial_population, next_generation
from .store import Store, StoreError


USER_ERRORS = (EvaluatorError, DataError, StoreError)  # problems with the user's setup, reported as one line


@dataclass(frozen=True)
class RunSummary:
    run: int
    seed: int
    best_phenotype: str
    best_fitness: float
    generations_done: int
    stopped: bool


def sge_params(cfg: Config) -> SGEParams:
    ev = cfg.evolution
    return SGEParams(population=ev.population, mutation_rate=ev.mutation_rate, crossover_rate=ev.crossover_rate,
                     tournament_size=ev.tournament_size, elitism=ev.elitism, init_depth=ev.init_depth,
                     max_depth=ev.max_depth)


def run_seeds(master_seed: int, run: int) -> tuple[np.random.SeedSequence, int]:
    """The run's evolution seed sequence and its training seed (weights, data split)."""
    ss = np.random.SeedSequence([master_seed, run])
    return ss, int(ss.generate_state(1)[0])


class Engine:
    def __init__(self, cfg: Config, evaluator: Evaluator | list[Evaluator] | None = None,
                 store: Store | None = None):
        self.cfg = cfg
        self.store = store
        self.grammar = load_grammar(cfg.evolution.grammar)
        self.params = sge_params(cfg)
        self.bus = EventBus()
        self.control = Control()
        # evaluators passed in belong to the caller; those made here are closed at the end
        self._given = [evaluator] if isinstance(evaluator, Evaluator) else list(evaluator or [])
        self.evaluators: list[Evaluator] = list(self._given)
        self.error: Exception | None = None  # what ended the experiment early, if anything
        # everything that changes what a training gives, besides the schedule and the run seed
        self.cache = ScheduleCache(training_digest(cfg), store)
        self.summaries: list[RunSummary] = []
        self.current_run = 0
        self._thread: threading.Thread | None = None

    # -- commands, from any thread -------------------------------------------------
    def subscribe(self, fn: Subscriber) -> None:
        self.bus.subscribe(fn)

    def pause(self) -> None:
        if not self.control.paused and not self.control.stopped:
            self.control.pause()
            self.emit(RunPaused(self.current_run))

    def resume(self) -> None:
        if self.control.paused:
            self.control.resume()
            self.emit(RunResumed(self.current_run))

    def stop(self, now: bool = False) -> None:
        """Stop at the next epoch boundary; ``now`` also kills a running training (quitting)."""
        self.control.stop()
        if now:
            for ev in self.evaluators:
                cancel = getattr(ev, "cancel", None)
                if cancel is not None:
                    cancel()

    @property
    def paused(self) -> bool:
        return self.control.paused

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.run, name="autolr-engine", daemon=True)
        self._thread.start()
        return self._thread

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the engine thread; True when it has ended."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    # -- the loop ---------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        self.bus.emit(event)

    def run(self) -> list[RunSummary]:
        """Run every run of the experiment; a failure is kept in ``error`` and emitted, not raised."""
        try:
            if not self.evaluators:
                self.evaluators = make_evaluators(self.cfg)
            finished = {r.run: r for r in self.store.runs() if r.status == "finished"} if self.store else {}
            for run in range(self.cfg.experiment.runs):
                self.current_run = run
                if run in finished:  # done before: report it as it was
                    r = finished[run]
                    self.summaries.append(RunSummary(run, r.seed, r.best_phenotype or "", r.best_fitness,
                                                     r.generations_done, False))
                    self.emit(RunFinished(run, r.best_phenotype or "", r.best_fitness, r.generations_done, False))
                    continue
                summary = self._run_one(run)
                self.summaries.append(summary)
                if summary.stopped:
                    break
        except Exception as exc:
            self.error = exc
            if self.store:
                self.store.set_status(self.current_run, "failed")
            self.emit(RunFailed(self.current_run, str(exc) if isinstance(exc, USER_ERRORS)
                                else f"{type(exc).__name__}: {exc}"))
        finally:
            for ev in self.evaluators:
                if ev not in self._given:
                    ev.close()
            self.bus.close()
        return self.summaries

    def _run_one(self, run: int) -> RunSummary:
        cfg, store = self.cfg, self.store
        ss, train_seed = run_seeds(cfg.experiment.seed, run)
        saved = store.last_generation(run) if store else None
        if saved is not None:
            rng = np.random.default_rng()
            rng.bit_generator.state = saved.rng_state
            gen, population = saved.generation, saved.population
            done = {i for i, ind in enumerate(population) if ind.fitness is not None}
            best = store.best_so_far(run)
        else:
            rng = np.random.default_rng(ss)
            gen, population, done, best = 0, initial_population(self.grammar, self.params, rng), set(), None
        schedules = self._schedules(population)
        if store:
            store.start_run(run, cfg.experiment.seed, train_seed)
            if saved is None:
                store.save_generation(run, 0, population, schedules, rng.bit_generator.state)
        self.emit(RunStarted(run, cfg.experiment.seed, cfg.evolution.generations, cfg.evolution.population,
                             cfg.dry_run, resumed_at=saved.generation if saved else None))
        if cfg.dry_run:
            self.emit(Log(f"fitness is the {self.evaluators[0].label}", "warning"))
        while True:
            self.emit(GenerationStarted(run, gen, tuple(i.phenotype for i in population)))
            self._evaluate_generation(run, gen, population, schedules, train_seed, done)
            done = set()
            if self.control.stopped or any(i.fitness is None for i in population):
                return self._finish(run, best, gen, stopped=True)
            gen_best = max(population, key=lambda i: i.fitness)
            if best is None or gen_best.fitness > best[1]:
                best = (gen_best.phenotype, gen_best.fitness)
            mean = float(np.mean([i.fitness for i in population]))
            if store:
                store.finish_generation(run, gen, gen_best.fitness, mean, best[1], best[0])
            self.emit(GenerationFinished(run, gen, gen_best.fitness, mean, gen_best.phenotype))
            gen += 1
            if gen == cfg.evolution.generations:
                return self._finish(run, best, gen, stopped=False)
            population = next_generation(self.grammar, population, self.params, rng)
            schedules = self._schedules(population)
            if store:
                store.save_generation(run, gen, population, schedules, rng.bit_generator.state)

    def _schedules(self, population: list[Individual]) -> list[np.ndarray]:
        t = self.cfg.training
        return [Policy.parse(i.phenotype).schedule(t.epochs, t.initial_lr) for i in population]

    def _finish(self, run: int, best: tuple[str, float] | None, done: int, stopped: bool) -> RunSummary:
        phenotype, fitness = best if best else ("", float("nan"))
        if self.store:
            self.store.set_status(run, "stopped" if stopped else "finished")
        self.emit(RunFinished(run, phenotype, fitness, done, stopped))
        return RunSummary(run, self.cfg.experiment.seed, phenotype, fitness, done, stopped)

    def _evaluate_generation(self, run: int, gen: int, population: list[Individual], schedules: list[np.ndarray],
                             seed: int, done: set[int]) -> None:
        """Fitness for every individual: stored, cached, or trained on the evaluators in parallel.

        Results are handled here in the engine thread (store writes, events) as trainings finish; a
        schedule that appears twice in the generation is trained once.
        """
        waiting: dict[bytes, list[int]] = {}
        for index, ind in enumerate(population):
            if index in done:  # finished before a restart
                self.emit(EvaluationFinished(run, gen, index, ind.phenotype, ind.fitness, None, True, 0.0, 0, None))
                continue
            key = self.cache.key(schedules[index], seed)
            if key in waiting:
                waiting[key].append(index)
            elif (result := self.cache.get(key)) is not None:
                self._record(run, gen, population, index, key, result, hit=True)
            else:
                waiting[key] = [index]
        free: queue.SimpleQueue[Evaluator] = queue.SimpleQueue()
        for ev in self.evaluators:
            free.put(ev)

        def train(index: int) -> EvalResult | None:
            if not self.control.checkpoint():
                return None
            ev = free.get()
            try:
                self.emit(EvaluationStarted(run, gen, index, population[index].phenotype))

                def on_epoch(rec: EpochRecord) -> bool:
                    self.emit(EpochEnded(run, gen, index, rec))
                    return self.control.checkpoint()

                start = time.perf_counter()
                result = ev.evaluate(schedules[index], seed, on_epoch)
                return replace(result, seconds=time.perf_counter() - start)
            finally:
                free.put(ev)

        with ThreadPoolExecutor(len(self.evaluators), thread_name_prefix="autolr-eval") as pool:
            futures = {pool.submit(train, indices[0]): key for key, indices in waiting.items()}
            for future in as_completed(futures):
                result = future.result()
                if result is None or not result.final:  # stopped: not a result, trained again on resume
                    continue
                key = futures[future]
                self.cache.put(key, result)
                first, *twins = waiting[key]
                self._record(run, gen, population, first, key, result, hit=False)
                for index in twins:
                    self._record(run, gen, population, index, key, result, hit=True)

    def _record(self, run: int, gen: int, population: list[Individual], index: int, key: bytes,
                result: EvalResult, hit: bool) -> None:
        ind = population[index]
        if self.store:
            self.store.save_evaluation(run, gen, index, key, result, hit)
        self.emit(EvaluationFinished(run, gen, index, ind.phenotype, result.fitness, result.reason, hit,
                                     0.0 if hit else result.seconds, len(result.epochs), result.stopped_epoch))
        population[index] = replace(ind, fitness=result.fitness)
