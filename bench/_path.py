"""Imported first by each benchmark: bench/engine.py would otherwise shadow the `engine` package.

The bench folder goes to the end of sys.path (worker processes re-import the
benchmark and need to find this module again), the project root to the front.
"""

import sys
from pathlib import Path

_here = Path(__file__).resolve().parent
sys.path[:] = [str(_here.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _here] + [str(_here)]
