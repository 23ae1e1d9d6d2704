import numpy as np
import pytest

from engine.grammar import GrammarError, grammar_path, load_grammar, parse_grammar


def test_paper_grammar_is_the_papers(paper_grammar):
    g = paper_grammar
    assert g.start == "<expr>"
    assert g.non_terminals == ["<expr>", "<logic_expr>", "<logic_op>", "<lr_const>", "<ep_const>"]
    consts = [float(p[0].text) for p in g.rules["<lr_const>"]]
    assert consts == list(np.linspace(0.0001, 0.1, 100))
    assert [p[0].text for p in g.rules["<ep_const>"]] == [str(i) for i in range(1, 101)]
    assert [p[0].text for p in g.rules["<logic_op>"]] == ["<", "<=", ">", ">="]
    expr = g.rules["<expr>"]
    assert [s.text for s in expr[0]] == ["if_func(", "<logic_expr>", ", ", "<expr>", ", ", "<expr>", ")"]
    assert [s.text for s in g.rules["<logic_expr>"][0]] == ["learning_rate ", "<logic_op>", " ", "<lr_const>"]


def test_depth_control_facts(paper_grammar):
    g = paper_grammar
    assert g.min_depth == {"<expr>": 2, "<logic_expr>": 2, "<logic_op>": 1, "<lr_const>": 1, "<ep_const>": 1}
    assert g.shortest["<expr>"] == (1,)
    assert g.recursive["<expr>"] == (0,)
    assert g.recursive["<logic_expr>"] == ()
    assert g.fitting("<expr>", 15, 17) == (0, 1)
    assert g.fitting("<expr>", 16, 17) == (1,)


def test_recognizes(paper_grammar):
    assert paper_grammar.recognizes("if_func(epoch <= 3, 0.1, 0.0001)")
    assert paper_grammar.recognizes("0.0011090909090909092")
    assert not paper_grammar.recognizes("if_func(epoch <= 3, 0.1, 0.0002)")
    assert not paper_grammar.recognizes("if_func(epoch == 3, 0.1, 0.0001)")
    assert not paper_grammar.recognizes("if_func(epoch <= 101, 0.1, 0.0001)")


def test_comments_blank_lines_and_spaces():
    g = parse_grammar("# c\n\n<a> ::= x <b> y | z\n  # more\n<b> ::= 1|2\n")
    assert g.start == "<a>"
    assert [s.text for s in g.rules["<a>"][0]] == ["x ", "<b>", " y"]
    assert [p[0].text for p in g.rules["<b>"]] == ["1", "2"]


@pytest.mark.parametrize("text, line, words", [
    ("<a> ::= <b>\n", 1, "<b> is used in the rule for <a> but never defined"),
    ("<a> ::= x\n# c\n<a> ::= y\n", 3, "duplicate rule for <a>"),
    ("<a> ::= x | <b>\n<b> ::= (<b>)\n", 2, "<b> can never reach terminals"),
    ("", 1, "no rules"),
    ("# only a comment\n", 1, "no rules"),
    ("<a> ::= x\nnot a rule\n", 2, "expected `<name> ::= alternative"),
    ("<a> ::= x | | y\n", 1, "empty alternative"),
])
def test_errors_name_file_and_line(text, line, words):
    with pytest.raises(GrammarError) as info:
        parse_grammar(text, "g.bnf")
    assert str(info.value).startswith(f"g.bnf:{line}: ")
    assert words in str(info.value)


def test_load_missing_and_builtin(tmp_path):
    assert grammar_path("autolr").name == "autolr.bnf"
    with pytest.raises(GrammarError, match="no such grammar file"):
        load_grammar(str(tmp_path / "missing.bnf"))
    f = tmp_path / "mine.bnf"
    f.write_text("<s> ::= 0.5 | if_func(epoch < 2, <s>, <s>)\n")
    assert load_grammar(str(f)).start == "<s>"
