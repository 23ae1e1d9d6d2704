"""Fashion-MNIST: find, read, check, preprocess and split (numpy only; no TensorFlow here).

Where the files come from, in order: the folder the config names
(``data.dir``), ``$AUTOLR_DATA_DIR``, the Keras cache
(``$KERAS_HOME/datasets/fashion-mnist`` or ``~/.keras/datasets/fashion-mnist``),
and last ``keras.datasets.fashion_mnist.load_data()``, which downloads into that
cache when online. The four official IDX files are read gzipped or not.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILES = {
    "x_train": ("train-images-idx3-ubyte", 2051, (60000, 28, 28)),
    "y_train": ("train-labels-idx1-ubyte", 2049, (60000,)),
    "x_test": ("t10k-images-idx3-ubyte", 2051, (10000, 28, 28)),
    "y_test": ("t10k-labels-idx1-ubyte", 2049, (10000,)),
}
CLASSES = 10


class DataError(ValueError):
    """The dataset cannot be used; one line naming the folder and what was expected."""


@dataclass(frozen=True)
class RawData:
    x_train: np.ndarray  # uint8 (60000, 28, 28)
    y_train: np.ndarray  # uint8 (60000,)
    x_test: np.ndarray
    y_test: np.ndarray


@dataclass(frozen=True)
class Split:
    x: np.ndarray  # float32 (n, size, size, channels) in [0, 1], or standardised
    y: np.ndarray  # int labels (n,)


@dataclass(frozen=True)
class Splits:
    train: Split
    validation: Split
    test: Split


def keras_cache_dir() -> Path:
    home = os.environ.get("KERAS_HOME") or str(Path("~/.keras").expanduser())
    return Path(home) / "datasets" / "fashion-mnist"


def _read_idx(folder: Path, name: str, magic: int, shape: tuple[int, ...]) -> np.ndarray:
    for candidate, opener in ((folder / f"{name}.gz", gzip.open), (folder / name, open)):
        if candidate.exists():
            break
    else:
        raise DataError(f"{folder}: missing {name}.gz (or {name}); expected the four Fashion-MNIST IDX files")
    try:
        with opener(candidate, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"{candidate}: cannot read ({exc}); expected a Fashion-MNIST IDX file") from None
    header = 4 * (1 + len(shape))
    if len(raw) < header or int.from_bytes(raw[:4], "big") != magic:
        raise DataError(f"{candidate}: not an IDX file with magic {magic:#010x}")
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(len(shape)))
    if dims != shape:
        raise DataError(f"{candidate}: shape {dims}, expected {shape}")
    body = np.frombuffer(raw, dtype=np.uint8, offset=header)
    if body.size != int(np.prod(shape)):
        raise DataError(f"{candidate}: {body.size} bytes of data, expected {int(np.prod(shape))} (truncated?)")
    return body.reshape(shape)


def read_folder(folder: Path) -> RawData:
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder; expected the four Fashion-MNIST IDX files")
    arrays = {key: _read_idx(folder, *spec) for key, spec in FILES.items()}
    for key in ("y_train", "y_test"):
        if arrays[key].max() >= CLASSES:
            raise DataError(f"{folder}: {FILES[key][0]} has label {arrays[key].max()}, expected 0..9")
    return RawData(**arrays)


def load_raw(folder: str = "") -> RawData:
    """The dataset from the first place that has it (see the module doc).

    A folder that is named (``data.dir`` or ``$AUTOLR_DATA_DIR``) must be right: no silent fallback.
    """
    named = folder or os.environ.get("AUTOLR_DATA_DIR", "")
    if named:
        return read_folder(Path(named).expanduser())
    if (keras_cache_dir() / f"{FILES['y_test'][0]}.gz").exists():
        return read_folder(keras_cache_dir())
    try:
        import keras

        (xtr, ytr), (xte, yte) = keras.datasets.fashion_mnist.load_data()
    except Exception as exc:
        raise DataError(
            f"{keras_cache_dir()}: Fashion-MNIST is not there and could not be downloaded ({type(exc).__name__}); "
            "set data.dir or $AUTOLR_DATA_DIR to a folder with the four IDX files") from None
    return RawData(xtr, ytr, xte, yte)


def preprocess(x: np.ndarray, image_size: int, channels: int) -> np.ndarray:
    """uint8 28x28 -> float32 in [0, 1], nearest-neighbour resized, the channel replicated."""
    if image_size != x.shape[1]:
        idx = np.arange(image_size) * x.shape[1] // image_size
        x = x[:, idx][:, :, idx]
    out = x.astype(np.float32)[..., None] / 255.0
    return np.repeat(out, channels, axis=-1) if channels > 1 else out


def _quotas(size: int, counts: np.ndarray) -> np.ndarray:
    """Per-class counts summing to ``size``, proportional to ``counts`` (largest remainder)."""
    exact = size * counts / counts.sum()
    q = np.floor(exact).astype(int)
    q[np.argsort(-(exact - q), kind="stable")[: size - q.sum()]] += 1
    return q


def stratified_indices(labels: np.ndarray, sizes: tuple[int, ...], rng: np.random.Generator) -> list[np.ndarray]:
    """Disjoint index sets of the given sizes, each with the class proportions of ``labels``."""
    classes = np.arange(CLASSES)
    counts = np.array([(labels == c).sum() for c in classes])
    pools = [rng.permutation(np.flatnonzero(labels == c)) for c in classes]
    used = np.zeros(CLASSES, dtype=int)
    out = []
    for size in sizes:
        q = _quotas(size, counts)
        parts = [pools[c][used[c]: used[c] + q[c]] for c in classes]
        used += q
        out.append(rng.permutation(np.concatenate(parts)))
    return out


def _split(x: np.ndarray, y: np.ndarray, image_size: int, channels: int) -> Split:
    return Split(preprocess(x, image_size, channels), y.astype(np.int64))


def _standardised(parts: list[Split], standardise: bool) -> Splits:
    """The paper's featurewise centre and std: the training split's mean and std, applied to all three."""
    if standardise:
        mean, std = parts[0].x.mean(), parts[0].x.std() + 1e-7
        parts = [Split((p.x - mean) / std, p.y) for p in parts]
    return Splits(*parts)


def make_splits(raw: RawData, sizes: tuple[int, int, int], seed: int, image_size: int, channels: int,
                standardise: bool) -> Splits:
    """The evolution split: train/validation/test drawn from the 60,000 training images with ``seed``."""
    idx = stratified_indices(raw.y_train, sizes, np.random.default_rng(seed))
    return _standardised([_split(raw.x_train[i], raw.y_train[i], image_size, channels) for i in idx], standardise)


def routine_splits(raw: RawData, seed: int, image_size: int, channels: int, standardise: bool,
                   sizes: tuple[int, int] = (52500, 7500)) -> Splits:
    """The paper's testing routine: 52,500/7,500 from the training images, the official 10,000 as test."""
    tr, va = stratified_indices(raw.y_train, sizes, np.random.default_rng(seed))
    parts = [_split(raw.x_train[tr], raw.y_train[tr], image_size, channels),
             _split(raw.x_train[va], raw.y_train[va], image_size, channels),
             _split(raw.x_test, raw.y_test, image_size, channels)]
    return _standardised(parts, standardise)
