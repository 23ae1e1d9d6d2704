"""The networks whose schedules are evolved. Imports Keras: use in worker processes."""

from __future__ import annotations

import keras
from keras import layers

DENSER_DROPOUT = 0.471227540082


def _kernel() -> dict:
    """He initialisation and L2 5e-4 on every kernel, as the paper's DENSER network."""
    return {
        "kernel_initializer": keras.initializers.VarianceScaling(2.0, "fan_in", "truncated_normal"),
        "kernel_regularizer": keras.regularizers.L2(5e-4),
    }


def denser(input_shape: tuple[int, int, int] = (32, 32, 3), classes: int = 10) -> keras.Model:
    """The DENSER network of the paper's Figure 5 (9,086,518 parameters at 32x32x3)."""
    k = _kernel
    return keras.Sequential([
        keras.Input(input_shape),
        layers.Conv2D(73, 4, strides=2, padding="same", activation="relu", **k()),
        layers.BatchNormalization(momentum=0.99, epsilon=1e-3),
        layers.Conv2D(108, 4, strides=1, padding="valid", activation="relu", **k()),
        layers.Conv2D(105, 5, strides=3, padding="same", activation="relu", **k()),
        layers.Flatten(),
        layers.Dense(1822, activation="relu", **k()),
        layers.Dropout(DENSER_DROPOUT),
        layers.Dense(634, activation="relu", use_bias=False, **k()),
        layers.Dense(1806, activation="linear", use_bias=False, **k()),
        layers.Dense(874, activation="sigmoid", **k()),
        layers.Dense(classes, activation="softmax", **k()),
    ], name="denser")


def small_cnn(input_shape: tuple[int, int, int] = (28, 28, 1), classes: int = 10) -> keras.Model:
    """A quick CNN (about 0.12M parameters at 28x28x1) for the default experiment."""
    return keras.Sequential([
        keras.Input(input_shape),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(64, activation="relu"),
        layers.Dense(classes, activation="softmax"),
    ], name="small_cnn")


MODELS = {"denser": denser, "small_cnn": small_cnn}


def augmentation(seed: int) -> keras.Sequential:
    """The paper's random augmentation (rotation 20 degrees, shifts 0.2, horizontal flip), active only in training.

    The featurewise centre and std are applied to the data beforehand (engine.data).
    """
    return keras.Sequential([
        layers.RandomRotation(20 / 360, fill_mode="nearest", seed=seed),
        layers.RandomTranslation(0.2, 0.2, fill_mode="nearest", seed=seed + 1),
        layers.RandomFlip("horizontal", seed=seed + 2),
    ], name="augmentation")


def build(model: str, input_shape: tuple[int, int, int], augment: bool, seed: int) -> keras.Model:
    net = MODELS[model](input_shape)
    if not augment:
        return net
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, net(augmentation(seed)(inputs)), name=f"{model}_augmented")
