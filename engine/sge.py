"""Structured grammatical evolution (Lourenco et al.), after nunolourenco/sge3.

Genotype: one list of integers per non-terminal; gene k of list N picks the
production for the k-th expansion of N (no modulo). Lists grow on demand
during mapping. Depth: the start symbol is expanded at depth 1 and a tree's
depth is that of its deepest non-terminal. A production is only taken where
the smallest tree it leads to still fits within ``max_depth``, which is the
paper's "past the maximum depth only shortest-path productions" made exact.

All randomness comes from the ``numpy.random.Generator`` passed in. Fitness is
maximised.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .grammar import Grammar

Genotype = dict[str, list[int]]


@dataclass(frozen=True)
class Individual:
    genotype: Genotype
    phenotype: str
    depth: int
    used: dict[str, int]  # genes read by the mapping, per non-terminal
    fitness: float | None = None


@dataclass(frozen=True)
class SGEParams:
    population: int = 5
    mutation_rate: float = 0.15
    crossover_rate: float = 0.9
    tournament_size: int = 5
    elitism: int = 1
    init_depth: int = 6
    max_depth: int = 17


def map_genotype(
    grammar: Grammar, genotype: Genotype, max_depth: int, rng: np.random.Generator, grow_depth: int | None = None
) -> Individual:
    """Map a genotype to its phenotype, growing and repairing genes as needed.

    A missing gene is drawn at random among the productions that fit when its
    non-terminal sits at depth <= ``grow_depth`` (default ``max_depth``), and
    among the fitting shortest-path productions deeper than that. A gene whose
    production would break ``max_depth`` is redrawn among those that fit.
    """
    grow_depth = max_depth if grow_depth is None else grow_depth
    genes = {nt: list(genotype.get(nt, [])) for nt in grammar.rules}
    used = dict.fromkeys(grammar.rules, 0)
    out: list[str] = []
    deepest = 0
    # iterative depth-first expansion (left to right), stack of (symbol, depth)
    stack: list[tuple[str, bool, int]] = [(grammar.start, False, 1)]
    while stack:
        text, terminal, depth = stack.pop()
        if terminal:
            out.append(text)
            continue
        deepest = max(deepest, depth)
        options = grammar.fitting(text, depth, max_depth)
        pos = used[text]
        used[text] += 1
        if pos == len(genes[text]):
            if depth > grow_depth:
                options = tuple(o for o in options if o in grammar.shortest[text]) or options
            genes[text].append(int(rng.choice(options)))
        elif genes[text][pos] not in options:
            if not 0 <= genes[text][pos] < len(grammar.rules[text]):
                raise ValueError(f"gene {genes[text][pos]} of {text} is not a production index")
            genes[text][pos] = int(rng.choice(options))
        prod = grammar.rules[text][genes[text][pos]]
        stack.extend((s.text, s.terminal, depth + 1) for s in reversed(prod))
    return Individual(genes, "".join(out), deepest, used)


def random_individual(grammar: Grammar, params: SGEParams, rng: np.random.Generator) -> Individual:
    """Grow at random until ``init_depth``, then along shortest paths."""
    return map_genotype(grammar, {}, params.max_depth, rng, grow_depth=params.init_depth)


def initial_population(grammar: Grammar, params: SGEParams, rng: np.random.Generator) -> list[Individual]:
    return [random_individual(grammar, params, rng) for _ in range(params.population)]


def mutate(grammar: Grammar, ind: Individual, params: SGEParams, rng: np.random.Generator) -> Individual:
    """Per-gene mutation over the genes the mapping used: another production with probability ``mutation_rate``."""
    genes = {nt: list(g) for nt, g in ind.genotype.items()}
    for nt, n_used in ind.used.items():
        n_prods = len(grammar.rules[nt])
        if n_prods < 2:
            continue
        for pos in range(n_used):
            if rng.random() < params.mutation_rate:
                other = int(rng.integers(n_prods - 1))
                genes[nt][pos] = other + (other >= genes[nt][pos])
    return map_genotype(grammar, genes, params.max_depth, rng)


def crossover(grammar: Grammar, a: Individual, b: Individual, params: SGEParams, rng: np.random.Generator) -> Individual:
    """Uniform crossover over the non-terminal lists: each list whole from one parent."""
    mask = rng.random(len(grammar.rules)) < 0.5
    genes = {nt: list((a if take_a else b).genotype[nt]) for nt, take_a in zip(grammar.rules, mask)}
    return map_genotype(grammar, genes, params.max_depth, rng)


def tournament(population: list[Individual], size: int, rng: np.random.Generator) -> Individual:
    picks = rng.choice(len(population), size=min(size, len(population)), replace=False)
    return max((population[i] for i in picks), key=_fitness)


def _fitness(ind: Individual) -> float:
    if ind.fitness is None:
        raise ValueError("selection needs evaluated individuals")
    return ind.fitness


def next_generation(
    grammar: Grammar, population: list[Individual], params: SGEParams, rng: np.random.Generator
) -> list[Individual]:
    """Elites kept with their fitness; the rest bred by tournament, crossover and mutation."""
    ranked = sorted(population, key=_fitness, reverse=True)
    new = ranked[: params.elitism]
    while len(new) < params.population:
        if rng.random() < params.crossover_rate:
            child = crossover(grammar, tournament(population, params.tournament_size, rng),
                              tournament(population, params.tournament_size, rng), params, rng)
        else:
            child = tournament(population, params.tournament_size, rng)
        new.append(replace(mutate(grammar, child, params, rng), fitness=None))
    return new
