"""Noisy XOR with `from keras import layers`, an Activation layer, MSE loss and
the binary_accuracy metric."""

import json

import keras
import numpy as np
from keras import layers

keras.utils.set_random_seed(3)

rng = np.random.default_rng(0)
X = rng.uniform(-1, 1, size=(2400, 2)).astype("float32")
y = ((X[:, 0] > 0) != (X[:, 1] > 0)).astype("float32")
X_train, y_train, X_test, y_test = X[:1600], y[:1600], X[1600:], y[1600:]

model = keras.Sequential(
    [
        keras.Input(shape=(2,)),
        layers.Dense(16),
        layers.Activation("tanh"),
        layers.Dense(16, activation="tanh"),
        layers.Dense(1, activation="sigmoid"),
    ]
)
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=0.01),
    loss="mse",
    metrics=["binary_accuracy"],
)
history = model.fit(X_train, y_train, epochs=60, batch_size=32, verbose=0)
print("history keys:", sorted(history.history))
loss, binary_accuracy = model.evaluate(X_test, y_test, verbose=0)
print(f"XOR test accuracy: {binary_accuracy:.3f}")
print("RESULT " + json.dumps({"test_accuracy": float(binary_accuracy)}))
