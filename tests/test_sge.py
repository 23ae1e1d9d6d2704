from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.policy import Policy
from engine.sge import (SGEParams, crossover, initial_population, map_genotype, mutate, next_generation,
                        random_individual, tournament)

seeds = st.integers(0, 2**32 - 1)
depths = st.tuples(st.integers(2, 8), st.integers(0, 12)).map(lambda t: (t[0], t[0] + t[1]))


def _params(depth):
    init_depth, max_depth = depth
    return SGEParams(init_depth=init_depth, max_depth=max_depth, mutation_rate=0.3)


def _valid(grammar, ind, params):
    Policy.parse(ind.phenotype, grammar)  # raises outside the language
    assert 2 <= ind.depth <= params.max_depth
    assert all(n <= len(ind.genotype[nt]) for nt, n in ind.used.items())


def test_hand_written_genotype_maps_to_expected_phenotype(paper_grammar):
    genotype = {"<expr>": [0, 1, 1], "<logic_expr>": [1], "<logic_op>": [1], "<lr_const>": [99, 0],
                "<ep_const>": [2]}
    ind = map_genotype(paper_grammar, genotype, 17, np.random.default_rng(0))
    assert ind.phenotype == "if_func(epoch <= 3, 0.1, 0.0001)"
    assert ind.depth == 3
    assert ind.used == {"<expr>": 3, "<logic_expr>": 1, "<logic_op>": 1, "<lr_const>": 2, "<ep_const>": 1}
    assert ind.genotype == genotype


def test_mapping_repairs_genes_past_max_depth(paper_grammar):
    # every <expr> gene asks for if_func: past depth 3 only <lr_const> fits
    ind = map_genotype(paper_grammar, {"<expr>": [0] * 50}, 3, np.random.default_rng(0))
    assert ind.depth == 3
    assert ind.phenotype.count("if_func") == 1
    Policy.parse(ind.phenotype, paper_grammar)


def test_mapping_grows_missing_genes(paper_grammar):
    ind = map_genotype(paper_grammar, {}, 17, np.random.default_rng(3))
    assert all(len(ind.genotype[nt]) == n for nt, n in ind.used.items())


def test_rejects_gene_outside_productions(paper_grammar):
    with pytest.raises(ValueError, match="not a production index"):
        map_genotype(paper_grammar, {"<expr>": [7]}, 17, np.random.default_rng(0))


@settings(max_examples=60, deadline=None)
@given(seed=seeds, depth=depths)
def test_initialisation_gives_valid_policies_within_depth(paper_grammar, seed, depth):
    params = _params(depth)
    for ind in initial_population(paper_grammar, replace(params, population=8), np.random.default_rng(seed)):
        _valid(paper_grammar, ind, params)


@settings(max_examples=60, deadline=None)
@given(seed=seeds, depth=depths)
def test_mutation_and_crossover_give_valid_policies_within_depth(paper_grammar, seed, depth):
    params = _params(depth)
    rng = np.random.default_rng(seed)
    a, b = random_individual(paper_grammar, params, rng), random_individual(paper_grammar, params, rng)
    for _ in range(5):
        a = mutate(paper_grammar, a, params, rng)
        b = crossover(paper_grammar, a, b, params, rng)
        _valid(paper_grammar, a, params)
        _valid(paper_grammar, b, params)


def test_mutation_changes_only_used_genes_at_rate(paper_grammar):
    params = SGEParams(mutation_rate=1.0)
    rng = np.random.default_rng(5)
    ind = random_individual(paper_grammar, params, rng)
    padded = {nt: g + [0] * 3 for nt, g in ind.genotype.items()}
    ind = replace(ind, genotype=padded)
    out = mutate(paper_grammar, ind, params, rng)
    # with rate 1 every used gene changed; <expr> genes may be repaired back by depth control, the rest cannot
    for nt, n in ind.used.items():
        if nt != "<expr>":
            assert all(x != y for x, y in zip(ind.genotype[nt][:n], out.genotype[nt][:n]))
        assert out.genotype[nt][n:len(ind.genotype[nt])] == ind.genotype[nt][n:] or out.used[nt] > n
    unchanged = mutate(paper_grammar, ind, replace(params, mutation_rate=0.0), rng)
    assert unchanged.phenotype == ind.phenotype


def test_crossover_takes_each_list_whole_from_one_parent(paper_grammar):
    rng = np.random.default_rng(11)
    params = SGEParams()
    a, b = random_individual(paper_grammar, params, rng), random_individual(paper_grammar, params, rng)
    child = crossover(paper_grammar, a, b, params, rng)
    for nt in paper_grammar.rules:
        n = child.used[nt]
        assert child.genotype[nt][:n] in (a.genotype[nt][:n], b.genotype[nt][:n])


@settings(max_examples=20, deadline=None)
@given(seed=seeds)
def test_same_seed_same_populations(paper_grammar, seed):
    params = SGEParams(population=6, tournament_size=3)

    def evolve():
        rng = np.random.default_rng(seed)
        pop = initial_population(paper_grammar, params, rng)
        history = []
        for _ in range(4):
            pop = [replace(i, fitness=float(len(i.phenotype) % 7)) for i in pop]
            history.append([(i.phenotype, i.genotype) for i in pop])
            pop = next_generation(paper_grammar, pop, params, rng)
        return history

    assert evolve() == evolve()


def test_tournament_maximises_and_elitism_keeps_best(paper_grammar):
    rng = np.random.default_rng(0)
    params = SGEParams(population=5, tournament_size=5, elitism=1)
    pop = [replace(i, fitness=f) for i, f in zip(initial_population(paper_grammar, params, rng), [0.1, 0.9, 0.3, 0.2, 0.5])]
    assert tournament(pop, 5, rng).fitness == 0.9
    new = next_generation(paper_grammar, pop, params, rng)
    assert len(new) == 5
    assert new[0] is pop[1] and new[0].fitness == 0.9
    assert all(i.fitness is None for i in new[1:])
