"""Learning-rate policies: phenotype text parsed into a small expression tree.

The language (the paper's): ``if_func(<cond>, <expr>, <expr>)`` or a number,
where ``<cond>`` is ``epoch`` or ``learning_rate`` compared (< <= > >=) with a
number. Nothing is ever passed to eval/exec.

Epochs are 1-based as in the paper. Keras passes a 0-based epoch to its
schedulers; ``paper_epoch`` is the one conversion.

Rates are rounded to float32 after every epoch, as Keras stores the optimizer's
learning rate in a float32 variable and hands that value back to the scheduler
next epoch, so ``schedule`` gives exactly the rates a Keras training uses.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .grammar import Grammar

VARIABLES = ("epoch", "learning_rate")
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
_TOKEN = re.compile(r"\s*(?:(?P<num>[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)|(?P<op><=|>=|<|>)|(?P<name>[A-Za-z_]\w*)|(?P<punct>[(),]))")


def paper_epoch(keras_epoch: int) -> int:
    """Keras counts epochs from 0, the paper (and this project) from 1: the one conversion."""
    return keras_epoch + 1


class PolicyError(ValueError):
    """Text that is not a policy of the grammar's language."""


@dataclass(frozen=True)
class Const:
    value: float


@dataclass(frozen=True)
class Compare:
    variable: str
    op: str
    value: float


@dataclass(frozen=True)
class If:
    cond: Compare
    then: "Node"
    other: "Node"


Node = Const | If
RateFn = Callable[[int, float], float]


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise PolicyError(f"unexpected character {text[pos:].lstrip()[:1]!r} at position {pos + 1}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind), m.start(kind) + 1))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str):
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str, int]:
        return self.toks[self.i] if self.i < len(self.toks) else ("end", "end of text", -1)

    def take(self, kind: str, value: str | None = None) -> str:
        k, v, pos = self.peek()
        if k != kind or (value is not None and v != value):
            where = f" at position {pos}" if pos > 0 else ""
            raise PolicyError(f"expected {value or kind}, found {v!r}{where}")
        self.i += 1
        return v

    def expr(self) -> Node:
        kind, value, pos = self.peek()
        if kind == "num":
            return Const(float(self.take("num")))
        if value != "if_func":
            where = f" at position {pos}" if pos > 0 else ""
            raise PolicyError(f"expected a number or if_func(...), found {value!r}{where}")
        self.i += 1
        self.take("punct", "(")
        cond = self.cond()
        self.take("punct", ",")
        then = self.expr()
        self.take("punct", ",")
        other = self.expr()
        self.take("punct", ")")
        return If(cond, then, other)

    def cond(self) -> Compare:
        kind, value, pos = self.peek()
        if value not in VARIABLES:
            raise PolicyError(f"expected epoch or learning_rate, found {value!r} at position {pos}")
        self.i += 1
        op = self.take("op")
        return Compare(value, op, float(self.take("num")))


def _compile(node: Node) -> RateFn:
    if isinstance(node, Const):
        v = node.value
        return lambda epoch, lr: v
    test, k = OPERATORS[node.cond.op], node.cond.value
    then, other = _compile(node.then), _compile(node.other)
    if node.cond.variable == "epoch":
        return lambda epoch, lr: then(epoch, lr) if test(epoch, k) else other(epoch, lr)
    return lambda epoch, lr: then(epoch, lr) if test(lr, k) else other(epoch, lr)


@dataclass(frozen=True)
class Policy:
    text: str
    tree: Node

    @classmethod
    def parse(cls, text: str, grammar: Grammar | None = None) -> "Policy":
        """Parse ``text``; with ``grammar``, also require it to be a sentence of that grammar."""
        p = _Parser(text)
        tree = p.expr()
        if p.i != len(p.toks):
            _, v, pos = p.peek()
            raise PolicyError(f"unexpected {v!r} at position {pos} after a complete policy")
        if grammar is not None and not grammar.recognizes(text.strip()):
            raise PolicyError(f"not in the language of grammar {grammar.source} (constants or layout differ)")
        return cls(text.strip(), tree)

    @cached_property
    def _fn(self) -> RateFn:
        return _compile(self.tree)

    def rate(self, epoch: int, learning_rate: float) -> float:
        """The rate for 1-based ``epoch`` given the rate in use before it."""
        return float(self._fn(epoch, learning_rate))

    def schedule(self, epochs: int, initial_lr: float) -> np.ndarray:
        """Rates for epochs 1..``epochs`` (float32), starting from the optimizer's ``initial_lr``."""
        out = np.empty(epochs, dtype=np.float32)
        lr = float(np.float32(initial_lr))
        fn = self._fn
        for e in range(epochs):
            out[e] = fn(e + 1, lr)
            lr = float(out[e])
        return out

    def keras_callback(self, verbose: int = 0):
        """A ``keras.callbacks.LearningRateScheduler`` running this policy."""
        import keras

        return keras.callbacks.LearningRateScheduler(lambda epoch, lr: self.rate(paper_epoch(epoch), lr), verbose=verbose)


def schedule_key(rates: np.ndarray) -> bytes:
    """The identity of a schedule: its float32 rates."""
    return np.asarray(rates, dtype=np.float32).tobytes()
