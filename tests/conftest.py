import os
from pathlib import Path

import pytest

from engine.grammar import load_grammar

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def paper_grammar():
    return load_grammar("autolr")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The Fashion-MNIST files: $AUTOLR_DATA_DIR (set by .ci/run), else ../shared beside the checkout."""
    path = Path(os.environ.get("AUTOLR_DATA_DIR", ROOT.parent / "shared" / "datasets" / "fashion-mnist"))
    assert (path / "train-images-idx3-ubyte.gz").exists(), f"Fashion-MNIST not found in {path}"
    return path
