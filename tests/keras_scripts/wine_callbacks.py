"""Wine with integer labels (sparse categorical cross-entropy), a
LearningRateScheduler and a CSVLogger (`from keras import callbacks`)."""

import csv
import json
import math

import keras
from keras import callbacks, layers
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

keras.utils.set_random_seed(5)

X, y = load_wine(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=5, stratify=y)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)


def scheduler(epoch, lr):
    # Keep the rate for 10 epochs, then decay it exponentially.
    if epoch < 10:
        return lr
    return lr * math.exp(-0.1)


model = keras.Sequential(
    [
        layers.Input(shape=(13,)),
        layers.Dense(16, activation="relu"),
        layers.Dense(3, activation="softmax"),
    ]
)
model.compile(
    optimizer=keras.optimizers.SGD(learning_rate=0.05),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
history = model.fit(
    X_train,
    y_train,
    epochs=40,
    batch_size=8,
    validation_data=(X_test, y_test),
    callbacks=[callbacks.LearningRateScheduler(scheduler), callbacks.CSVLogger("training.csv")],
    verbose=0,
)
with open("training.csv") as f:
    rows = list(csv.DictReader(f))
print("CSV columns:", list(rows[0]))
final_lr = float(model.optimizer.learning_rate)
print(f"final learning rate: {final_lr:.5f}")

loss, accuracy = model.evaluate(X_test, y_test, verbose=0)
print(f"test accuracy: {accuracy:.4f}")
print(
    "RESULT "
    + json.dumps(
        {
            "test_accuracy": accuracy,
            "csv_rows": len(rows),
            "csv_columns": sorted(rows[0]),
            "final_learning_rate": round(final_lr, 6),
            "history_learning_rate": round(history.history["learning_rate"][-1], 6),
        }
    )
)
