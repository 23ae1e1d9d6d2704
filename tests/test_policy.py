import numpy as np
import pytest

from engine.policy import Policy, PolicyError

f32 = np.float32


def test_step_schedule_by_hand(paper_grammar):
    p = Policy.parse("if_func(epoch <= 3, 0.1, 0.0001)", paper_grammar)
    assert p.rate(3, 0.5) == 0.1 and p.rate(4, 0.5) == 0.0001
    assert p.schedule(6, 0.01).tolist() == [f32(0.1)] * 3 + [f32(0.0001)] * 3


def test_rate_dependent_oscillator():
    # from 0.01: below 0.05 -> 0.09; at/above 0.05 -> 0.0001; ...
    p = Policy.parse("if_func(learning_rate >= 0.05, 0.0001, if_func(learning_rate < 0.001, 0.09, 0.02))")
    assert p.schedule(5, 0.01).tolist() == [f32(0.02), f32(0.02), f32(0.02), f32(0.02), f32(0.02)]
    assert p.schedule(4, 0.0005).tolist() == [f32(0.09), f32(0.0001), f32(0.09), f32(0.0001)]
    assert p.schedule(2, 0.06).tolist() == [f32(0.0001), f32(0.09)]


def test_schedule_feeds_back_float32_like_keras():
    c = 0.0011090909090909092  # float32(c) < c: a float64 comparison would say the opposite
    assert float(f32(c)) < c
    p = Policy.parse(f"if_func(learning_rate >= {c!r}, 0.05, {c!r})")
    assert p.schedule(3, c).tolist() == [f32(c), f32(c), f32(c)]


def test_constant_and_whitespace():
    p = Policy.parse("  0.0112 ")
    assert p.text == "0.0112"
    assert p.schedule(3, 0.01).tolist() == [f32(0.0112)] * 3


@pytest.mark.parametrize("text, words", [
    ("if_func(epoch <= 3, 0.1)", "expected ,"),
    ("if_func(epoch == 3, 0.1, 0.2)", "unexpected character '='"),
    ("if_func(momentum <= 3, 0.1, 0.2)", "expected epoch or learning_rate"),
    ("__import__('os')", "unexpected character"),
    ("exec(1)", "expected a number or if_func"),
    ("0.1 0.2", "after a complete policy"),
    ("", "expected a number or if_func"),
    ("if_func(epoch <= 3, 0.1, 0.2", "expected )"),
])
def test_rejects_text_outside_the_language(text, words):
    with pytest.raises(PolicyError, match=words.replace("(", r"\(").replace(")", r"\)")):
        Policy.parse(text)


def test_grammar_constants_are_enforced(paper_grammar):
    Policy.parse("if_func(epoch > 5, 0.1, 0.0001)")  # fine without a grammar
    with pytest.raises(PolicyError, match="not in the language"):
        Policy.parse("if_func(epoch > 5, 0.1, 0.0002)", paper_grammar)


def test_keras_callback_converts_to_one_based_epochs():
    p = Policy.parse("if_func(epoch <= 1, 0.1, 0.0001)")
    cb = p.keras_callback()
    assert cb.schedule(0, 0.01) == 0.1  # Keras's epoch 0 is the paper's epoch 1
    assert cb.schedule(1, 0.1) == 0.0001
