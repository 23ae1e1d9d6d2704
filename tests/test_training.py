"""Real trainings on tiny Fashion-MNIST splits (inline, in this process)."""

import numpy as np
import pytest

from engine.data import load_raw
from engine.training import Trainer, configure_tensorflow


@pytest.fixture(scope="module")
def trainer(data_dir):
    from engine.config import build_config
    from tests.conftest import TINY

    configure_tensorflow()
    return Trainer(build_config(overrides=TINY), load_raw(str(data_dir)))


def always(record):
    return True


def test_fitness_is_test_accuracy_and_depends_on_the_schedule(trainer):
    fast = trainer.train(np.full(2, 0.1, np.float32), 1, always)
    slow = trainer.train(np.full(2, 0.0001, np.float32), 1, always)
    assert 0 < fast.fitness <= 1 and 0 < slow.fitness <= 1
    assert fast.fitness != slow.fitness
    assert fast.status == "ok" and fast.reason is None
    assert [e.epoch for e in fast.epochs] == [1, 2]
    assert [e.lr for e in fast.epochs] == [np.float32(0.1)] * 2
    assert all(np.isfinite([e.loss, e.val_loss, e.accuracy, e.val_accuracy]).all() for e in fast.epochs)


def test_same_seed_same_fitness_and_reset_between_evaluations(trainer):
    rates = np.array([0.05, 0.01], np.float32)
    a = trainer.train(rates, 5, always)
    trainer.train(np.full(2, 0.1, np.float32), 5, always)  # must not leak into the next evaluation
    b = trainer.train(rates, 5, always)
    assert a.fitness == b.fitness and [e.loss for e in a.epochs] == [e.loss for e in b.epochs]
    assert trainer.model.optimizer.iterations.numpy() == 2 * 6  # fresh optimizer state: 2 epochs x 6 batches
    other_seed = trainer.train(rates, 6, always)
    assert [e.loss for e in other_seed.epochs] != [e.loss for e in a.epochs]


@pytest.mark.parametrize("rate", [1e3, 1e6])
def test_nan_or_exploding_loss_gives_floor_fitness_and_a_reason(trainer, rate):
    r = trainer.train(np.array([rate, rate], np.float32), 1, always)
    assert r.fitness == 0.0 and r.status == "diverged"
    assert r.reason.startswith("loss became") and "at epoch 1" in r.reason


def test_on_epoch_false_stops_the_training(trainer):
    seen = []
    r = trainer.train(np.full(2, 0.01, np.float32), 1, lambda rec: seen.append(rec) or False)
    assert r.status == "stopped" and len(seen) == 1 and not r.final


def test_early_stopping_records_the_stopped_epoch(data_dir):
    from engine.config import build_config
    from tests.conftest import TINY

    cfg = build_config(overrides=[*TINY, "training.epochs=12", "training.early_stop=true", "training.patience=1"])
    t = Trainer(cfg, load_raw(str(data_dir)))
    # a rate that keeps the validation loss from improving after the first epoch
    r = t.train(np.array([0.1] + [1e-7] * 11, np.float32), 1, always)
    assert r.status == "ok" and r.stopped_epoch is not None and r.stopped_epoch < 12
    assert len(r.epochs) == r.stopped_epoch


def test_denser_is_the_papers_network():
    from engine import models

    net = models.denser()
    assert net.count_params() == 9_086_518
    kinds = [(type(layer).__name__, layer.output.shape[1:]) for layer in net.layers]
    assert kinds == [
        ("Conv2D", (16, 16, 73)), ("BatchNormalization", (16, 16, 73)), ("Conv2D", (13, 13, 108)),
        ("Conv2D", (5, 5, 105)), ("Flatten", (2625,)), ("Dense", (1822,)), ("Dropout", (1822,)),
        ("Dense", (634,)), ("Dense", (1806,)), ("Dense", (874,)), ("Dense", (10,)),
    ]
    dense = [layer for layer in net.layers if type(layer).__name__ == "Dense"]
    assert [d.use_bias for d in dense] == [True, False, False, True, True]
    assert [d.activation.__name__ for d in dense] == ["relu", "relu", "linear", "sigmoid", "softmax"]
    conv = [layer for layer in net.layers if type(layer).__name__ == "Conv2D"]
    assert [(c.kernel_size, c.strides, c.padding) for c in conv] == [
        ((4, 4), (2, 2), "same"), ((4, 4), (1, 1), "valid"), ((5, 5), (3, 3), "same")]
    for layer in conv + dense:
        init = layer.kernel_initializer.get_config()
        assert (init["scale"], init["mode"], init["distribution"]) == (2.0, "fan_in", "truncated_normal")
        assert abs(layer.kernel_regularizer.get_config()["l2"] - 5e-4) < 1e-12
    bn = net.layers[1]
    assert (bn.momentum, bn.epsilon) == (0.99, 1e-3)
    assert abs(net.layers[6].rate - 0.471227540082) < 1e-12
    assert sum(int(np.prod(w.shape)) for w in net.non_trainable_weights) == 146


def test_augmented_model_keeps_the_parameters():
    from engine import models

    m = models.build("small_cnn", (28, 28, 1), augment=True, seed=1)
    assert m.count_params() == models.small_cnn().count_params()
    x = np.random.default_rng(0).random((4, 28, 28, 1)).astype(np.float32)
    assert np.allclose(m(x, training=False), m.layers[-1](x, training=False))  # augmentation only in training


def test_routine_split_tests_on_the_official_test_images(data_dir):
    from engine.config import build_config
    from tests.conftest import TINY

    raw = load_raw(str(data_dir))
    cfg = build_config(overrides=[*TINY, "data.split=routine", "data.routine_train=400", "data.routine_validation=150"])
    t = Trainer(cfg, raw)
    t.prepare(3)
    assert (len(t.splits.train.y), len(t.splits.validation.y)) == (400, 150)
    assert np.array_equal(t.splits.test.y, raw.y_test)
