import gzip
import shutil

import numpy as np
import pytest

from engine.data import (DataError, load_raw, make_splits, preprocess, read_folder, routine_splits,
                         stratified_indices)


@pytest.fixture(scope="module")
def raw(data_dir):
    return load_raw(str(data_dir))


def test_reads_the_official_files(raw):
    assert raw.x_train.shape == (60000, 28, 28) and raw.x_test.shape == (10000, 28, 28)
    assert raw.y_train.shape == (60000,) and set(np.unique(raw.y_test)) == set(range(10))
    assert abs(raw.x_train.mean() / 255 - 0.2860) < 1e-3


def test_environment_variable_and_plain_idx(tmp_path, data_dir, monkeypatch):
    for f in data_dir.glob("*-ubyte.gz"):
        (tmp_path / f.name.removesuffix(".gz")).write_bytes(gzip.decompress(f.read_bytes()))
    monkeypatch.setenv("AUTOLR_DATA_DIR", str(tmp_path))
    assert load_raw("").y_test.shape == (10000,)


def test_nearest_neighbour_to_32_and_three_channels():
    x = np.arange(28 * 28, dtype=np.uint8).reshape(1, 28, 28)
    out = preprocess(x, 32, 3)
    assert out.shape == (1, 32, 32, 3) and out.dtype == np.float32
    src = np.arange(32) * 28 // 32
    assert np.array_equal(out[0, :, :, 2], x[0][np.ix_(src, src)] / np.float32(255))
    assert np.array_equal(out[..., 0], out[..., 1])
    assert preprocess(x, 28, 1).shape == (1, 28, 28, 1)


def test_stratified_disjoint_and_seeded(raw):
    a = stratified_indices(raw.y_train, (7000, 1500, 1500), np.random.default_rng(3))
    b = stratified_indices(raw.y_train, (7000, 1500, 1500), np.random.default_rng(3))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert [len(x) for x in a] == [7000, 1500, 1500]
    assert len(np.unique(np.concatenate(a))) == 10000
    assert np.bincount(raw.y_train[a[1]]).tolist() == [150] * 10
    c = stratified_indices(raw.y_train, (7000, 1500, 1500), np.random.default_rng(4))
    assert not np.array_equal(a[0], c[0])


def test_featurewise_standardisation_from_the_training_split(raw):
    s = make_splits(raw, (700, 150, 150), 1, 32, 3, standardise=True)
    assert s.train.x.shape == (700, 32, 32, 3)
    assert abs(float(s.train.x.mean())) < 1e-4 and abs(float(s.train.x.std()) - 1) < 1e-3
    assert abs(float(s.test.x.mean())) > 1e-4  # test data uses the training statistics, not its own


def test_testing_routine_split(raw):
    s = routine_splits(raw, 1, 28, 1, standardise=False, sizes=(5250, 750))
    assert (len(s.train.y), len(s.validation.y), len(s.test.y)) == (5250, 750, 10000)


def _copy(data_dir, tmp_path):
    for f in data_dir.glob("*.gz"):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def test_missing_file(tmp_path, data_dir):
    folder = _copy(data_dir, tmp_path)
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"missing t10k-labels-idx1-ubyte.gz .*expected the four Fashion-MNIST"):
        read_folder(folder)


def test_truncated_file(tmp_path, data_dir):
    folder = _copy(data_dir, tmp_path)
    f = folder / "train-labels-idx1-ubyte.gz"
    f.write_bytes(gzip.compress(gzip.decompress(f.read_bytes())[:5000]))
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte.gz: 4992 bytes of data, expected 60000"):
        read_folder(folder)


def test_corrupt_gzip_and_bad_magic_and_labels(tmp_path, data_dir):
    folder = _copy(data_dir, tmp_path)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte.gz: cannot read"):
        read_folder(folder)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\0\0\x08\x01" + bytes(100)))
    with pytest.raises(DataError, match=r"not an IDX file with magic 0x00000803"):
        read_folder(folder)
    shutil.copy(data_dir / "t10k-images-idx3-ubyte.gz", folder)
    labels = bytearray(gzip.decompress((folder / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    labels[100] = 12
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(labels)))
    with pytest.raises(DataError, match=r"has label 12, expected 0..9"):
        read_folder(folder)


def test_a_named_folder_is_never_silently_replaced(tmp_path):
    with pytest.raises(DataError, match="not a folder"):
        load_raw(str(tmp_path / "nowhere"))
