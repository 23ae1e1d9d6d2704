"""Parse SGE BNF grammar files and compute what depth control needs.

Format: one rule per line, ``<nt> ::= alt | alt``, ``#`` starts a comment line,
the first rule is the start symbol. Text outside ``<...>`` is terminal and is
copied into the phenotype as written (inner spaces kept, the alternative's
outer spaces stripped).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

_NT = re.compile(r"<[A-Za-z_][A-Za-z0-9_-]*>")
_RULE = re.compile(r"^\s*(<[A-Za-z_][A-Za-z0-9_-]*>)\s*::=(.*)$")


class GrammarError(ValueError):
    """A grammar file that cannot be used; the message reads ``file:line: problem``."""


@dataclass(frozen=True)
class Symbol:
    text: str
    terminal: bool


Production = tuple[Symbol, ...]


@dataclass(frozen=True)
class Grammar:
    """A context-free grammar: ordered rules, the first being the start."""

    rules: dict[str, tuple[Production, ...]]
    source: str = "<string>"

    @property
    def start(self) -> str:
        return next(iter(self.rules))

    @property
    def non_terminals(self) -> list[str]:
        return list(self.rules)

    @cached_property
    def min_depth(self) -> dict[str, int]:
        """Height of the smallest derivation tree of each non-terminal.

        A non-terminal whose production is all terminals has height 1.
        """
        return {nt: int(d) for nt, d in _min_depths(self.rules).items()}

    @cached_property
    def heights(self) -> dict[str, tuple[int, ...]]:
        """Per non-terminal, the height of the smallest tree that starts with each production."""
        return {nt: tuple(int(_height(p, self.min_depth)) for p in prods) for nt, prods in self.rules.items()}

    @cached_property
    def shortest(self) -> dict[str, tuple[int, ...]]:
        """Per non-terminal, the productions on a shortest path to terminals."""
        return {
            nt: tuple(i for i, h in enumerate(hs) if h == self.min_depth[nt])
            for nt, hs in self.heights.items()
        }

    @cached_property
    def recursive(self) -> dict[str, tuple[int, ...]]:
        """Per non-terminal, the productions from which the non-terminal can derive itself."""
        reach: dict[str, set[str]] = {nt: set() for nt in self.rules}
        for nt, prods in self.rules.items():
            for p in prods:
                reach[nt].update(s.text for s in p if not s.terminal)
        changed = True
        while changed:
            changed = False
            for nt in self.rules:
                extra = set().union(*(reach[m] for m in reach[nt])) - reach[nt]
                if extra:
                    reach[nt] |= extra
                    changed = True
        return {
            nt: tuple(
                i for i, p in enumerate(prods)
                if any(not s.terminal and (s.text == nt or nt in reach[s.text]) for s in p)
            )
            for nt, prods in self.rules.items()
        }

    def fitting(self, nt: str, depth: int, max_depth: int) -> tuple[int, ...]:
        """Productions of ``nt`` expanded at ``depth`` (root = 1) that can finish within ``max_depth``."""
        return tuple(i for i, h in enumerate(self.heights[nt]) if depth - 1 + h <= max_depth)

    def recognizes(self, text: str) -> bool:
        """Whether ``text`` is a sentence of the grammar (memoised set-of-ends parser)."""
        memo: dict[tuple[str, int], frozenset[int]] = {}

        def ends_nt(nt: str, pos: int) -> frozenset[int]:
            key = (nt, pos)
            if key in memo:
                return memo[key]
            memo[key] = frozenset()  # guards against left recursion
            out: set[int] = set()
            for prod in self.rules[nt]:
                out |= ends_seq(prod, pos)
            memo[key] = frozenset(out)
            return memo[key]

        def ends_seq(prod: Production, pos: int) -> set[int]:
            positions = {pos}
            for sym in prod:
                nxt: set[int] = set()
                for p in positions:
                    if sym.terminal:
                        if text.startswith(sym.text, p):
                            nxt.add(p + len(sym.text))
                    else:
                        nxt |= ends_nt(sym.text, p)
                positions = nxt
                if not positions:
                    break
            return positions

        return len(text) in ends_nt(self.start, 0)


def _height(prod: Production, depth: dict[str, float] | dict[str, int]) -> float:
    return 1 + max((depth[s.text] for s in prod if not s.terminal), default=0)


def _min_depths(rules: dict[str, tuple[Production, ...]]) -> dict[str, float]:
    """Fixed point of height(nt) = min over productions; inf where terminals are never reached."""
    depth: dict[str, float] = {nt: float("inf") for nt in rules}
    changed = True
    while changed:
        changed = False
        for nt, prods in rules.items():
            best = min(_height(p, depth) for p in prods)
            if best < depth[nt]:
                depth[nt] = best
                changed = True
    return depth


def _split_alternatives(body: str) -> list[str]:
    return [alt.strip() for alt in body.split("|")]


def _symbols(alt: str) -> Production:
    out: list[Symbol] = []
    pos = 0
    for m in _NT.finditer(alt):
        if m.start() > pos:
            out.append(Symbol(alt[pos:m.start()], True))
        out.append(Symbol(m.group(), False))
        pos = m.end()
    if pos < len(alt):
        out.append(Symbol(alt[pos:], True))
    return tuple(out)


def parse_grammar(text: str, source: str = "<string>") -> Grammar:
    """Parse grammar text; raise GrammarError naming ``source:line`` on any problem."""
    rules: dict[str, tuple[Production, ...]] = {}
    lines: dict[str, int] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _RULE.match(line)
        if not m:
            raise GrammarError(f"{source}:{lineno}: expected `<name> ::= alternative | ...`, got {line[:60]!r}")
        nt, body = m.group(1), m.group(2)
        if nt in rules:
            raise GrammarError(f"{source}:{lineno}: duplicate rule for {nt} (first defined on line {lines[nt]})")
        alts = _split_alternatives(body)
        if any(a == "" for a in alts):
            raise GrammarError(f"{source}:{lineno}: empty alternative in the rule for {nt}")
        rules[nt] = tuple(_symbols(a) for a in alts)
        lines[nt] = lineno
    if not rules:
        raise GrammarError(f"{source}:1: the grammar has no rules")
    for nt, prods in rules.items():
        for prod in prods:
            for sym in prod:
                if not sym.terminal and sym.text not in rules:
                    raise GrammarError(f"{source}:{lines[nt]}: {sym.text} is used in the rule for {nt} but never defined")
    for nt, d in _min_depths(rules).items():
        if d == float("inf"):
            raise GrammarError(f"{source}:{lines[nt]}: {nt} can never reach terminals")
    return Grammar(rules, source)


def grammar_path(name_or_path: str) -> Path:
    """A grammar file path: an existing file, or the name of a built-in grammar (``autolr``)."""
    p = Path(name_or_path).expanduser()
    if p.suffix == ".bnf" or p.exists() or "/" in name_or_path:
        return p
    return Path(str(resources.files("grammars").joinpath(f"{name_or_path}.bnf")))


def builtin_grammars() -> list[str]:
    return sorted(
        f.name.removesuffix(".bnf") for f in resources.files("grammars").iterdir() if f.name.endswith(".bnf")
    )


def load_grammar(name_or_path: str) -> Grammar:
    path = grammar_path(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GrammarError(
            f"{name_or_path}: no such grammar file or built-in grammar (built-in: {', '.join(builtin_grammars())})"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GrammarError(f"{path}: cannot read the grammar file ({exc})") from None
    return parse_grammar(text, str(path))
