"""engine/ is the headless core: it never imports the UI libraries."""

import ast

from tests.conftest import ROOT

UI = {"textual", "rich", "plotext", "autolr_tui"}


def test_engine_imports_no_ui():
    offenders = []
    for path in sorted((ROOT / "engine").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path.name}:{node.lineno} {n}" for n in names if n.split(".")[0] in UI]
    assert offenders == []
    assert len(list((ROOT / "engine").rglob("*.py"))) > 5
