"""Losses and activations called directly on fixed arrays, as tutorials do to
explain them; prints each value (the check: the same numbers as Keras)."""

import json

import numpy as np
from tensorflow import keras

y_true = np.array([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0]], dtype="float32")
y_prob = np.array([[0.2, 0.7], [0.9, 0.6], [0.1, 0.4]], dtype="float32")
y_reg = np.array([[1.0, 2.0], [3.0, 4.0], [0.5, 0.1]], dtype="float32")
y_pred = np.array([[1.5, 1.0], [2.0, 5.0], [0.4, 0.3]], dtype="float32")
weights = np.array([1.0, 0.5, 2.0], dtype="float32")
labels = np.array([0, 1, 2])
probs = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.2, 0.3, 0.5]], dtype="float32")
logits = np.array([[2.0, -1.0, 0.5], [0.1, 1.5, -0.3], [-1.0, 0.0, 1.0]], dtype="float32")

losses = {
    "mae": keras.losses.MeanAbsoluteError()(y_reg, y_pred),
    "mse_weighted": keras.losses.MeanSquaredError()(y_reg, y_pred, sample_weight=weights),
    "mape": keras.losses.MeanAbsolutePercentageError()(y_reg, y_pred),
    "msle": keras.losses.MeanSquaredLogarithmicError()(y_reg, y_pred),
    "huber": keras.losses.Huber(delta=1.0)(y_reg, y_pred),
    "log_cosh": keras.losses.LogCosh()(y_reg, y_pred),
    "hinge": keras.losses.Hinge()(y_true, y_prob),
    "squared_hinge": keras.losses.SquaredHinge()(y_true, y_prob),
    "kl_divergence": keras.losses.KLDivergence()(probs[::-1], probs),
    "poisson": keras.losses.Poisson()(y_reg, y_pred),
    "binary_crossentropy": keras.losses.BinaryCrossentropy()(y_true, y_prob),
    "binary_crossentropy_smoothed": keras.losses.BinaryCrossentropy(label_smoothing=0.1)(
        y_true, y_prob
    ),
    "binary_crossentropy_logits": keras.losses.BinaryCrossentropy(from_logits=True)(y_true, y_pred),
    "sparse_categorical": keras.losses.SparseCategoricalCrossentropy()(labels, probs),
    "sparse_categorical_column": keras.losses.SparseCategoricalCrossentropy()(
        labels.reshape(3, 1), probs
    ),
    "sparse_categorical_logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True)(
        labels, logits
    ),
    "categorical_smoothed": keras.losses.CategoricalCrossentropy(label_smoothing=0.2)(
        np.eye(3), probs
    ),
}
x = np.linspace(-3, 3, 7).astype("float32")
activations = {
    name: np.asarray(getattr(keras.activations, name)(x)).round(5).tolist()
    for name in [
        "elu",
        "selu",
        "gelu",
        "swish",
        "softplus",
        "softsign",
        "relu6",
        "hard_sigmoid",
        "exponential",
    ]
}
for name, value in losses.items():
    print(f"{name:>30}: {float(value):.6f}")
print(
    "RESULT "
    + json.dumps(
        {
            "loss_values": {name: float(value) for name, value in losses.items()},
            "activation_values": activations,
        }
    )
)
