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


TINY = ["data.train=300", "data.validation=100", "data.test=100", "training.epochs=2", "training.batch_size=50",
        "evolution.population=3", "evolution.generations=2", "evolution.tournament_size=3"]


@pytest.fixture
def tiny_config(tmp_path, data_dir):
    """Real training on a few hundred images for two epochs; outputs under tmp_path."""
    from engine.config import build_config

    def make(*overrides):
        return build_config(overrides=[*TINY, f"data.dir='{data_dir}'", f"output.dir='{tmp_path / 'runs'}'",
                                       *overrides])

    return make
