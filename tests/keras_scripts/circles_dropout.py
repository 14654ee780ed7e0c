"""Circles with Dropout, Adam and EarlyStopping (tf.keras module imports)."""

import json

import numpy as np
import tensorflow as tf
from sklearn.datasets import make_circles
from sklearn.model_selection import train_test_split
from tensorflow.keras.callbacks import EarlyStopping
from tensorflow.keras.layers import Dense, Dropout
from tensorflow.keras.models import Sequential

tf.random.set_seed(1)
np.random.seed(1)  # noqa: NPY002 - the legacy seeding tutorials use

X, y = make_circles(n_samples=3000, noise=0.1, factor=0.5, random_state=1)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=1)

model = Sequential(
    [
        Dense(32, activation="relu", input_shape=(2,)),
        Dropout(0.2),
        Dense(32, activation="relu"),
        Dropout(0.2),
        Dense(1, activation="sigmoid"),
    ]
)
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])

early_stop = EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
history = model.fit(
    X_train,
    y_train,
    validation_split=0.2,
    epochs=100,
    batch_size=32,
    callbacks=[early_stop],
    verbose=0,
)
print("epochs run:", len(history.history["loss"]))

test_loss, test_acc = model.evaluate(X_test, y_test, verbose=0)
print(f"Test accuracy: {test_acc:.4f}")
print("RESULT " + json.dumps({"test_accuracy": float(test_acc)}))
