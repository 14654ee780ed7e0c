"""Digits (8x8 images flattened): ModelCheckpoint keeps the best model on disk,
ReduceLROnPlateau lowers the rate, and the best model is loaded back."""

import json
import os

import keras
import numpy as np
from keras.callbacks import ModelCheckpoint, ReduceLROnPlateau
from keras.layers import Dense, Dropout
from keras.models import Sequential, load_model
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

keras.utils.set_random_seed(2)

digits = load_digits()
X = digits.data / 16.0
X_train, X_test, y_train, y_test = train_test_split(
    X, digits.target, test_size=0.25, random_state=2, stratify=digits.target
)

model = Sequential()
model.add(Dense(64, activation="relu", input_shape=(64,)))
model.add(Dropout(0.1))
model.add(Dense(10, activation="softmax"))
model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

checkpoint = ModelCheckpoint(
    "best_model.keras", monitor="val_accuracy", save_best_only=True, mode="max"
)
plateau = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_delta=0.01, min_lr=1e-5)
history = model.fit(
    X_train,
    y_train,
    epochs=25,
    batch_size=32,
    validation_split=0.2,
    callbacks=[checkpoint, plateau],
    verbose=0,
)
best = load_model("best_model.keras")
best_epoch = int(np.argmax(history.history["val_accuracy"]))
split_at = int(len(X_train) * 0.8)  # fit(validation_split=0.2) holds out the last 20%
_, best_val = best.evaluate(X_train[split_at:], y_train[split_at:], verbose=0)
print("best epoch:", best_epoch + 1, "learning rates:", history.history["learning_rate"][::5])

loss, accuracy = best.evaluate(X_test, y_test, verbose=0)
print(f"test accuracy of the best model: {accuracy:.4f}")
print(
    "RESULT "
    + json.dumps(
        {
            "test_accuracy": accuracy,
            "checkpoint_written": os.path.exists("best_model.keras"),
            "best_model_is_best_epoch": bool(
                abs(best_val - history.history["val_accuracy"][best_epoch]) < 1e-6
            ),
            "learning_rate_lowered": history.history["learning_rate"][-1] < 1e-3,
        }
    )
)
