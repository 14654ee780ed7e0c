"""Breast cancer: BatchNormalization, class_weight, and the metrics a medical
tutorial reports (AUC, precision, recall), through `import tensorflow as tf`."""

import json

import numpy as np
import tensorflow as tf
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

tf.keras.utils.set_random_seed(0)

data = load_breast_cancer()
X_train, X_test, y_train, y_test = train_test_split(
    data.data, data.target, test_size=0.3, random_state=42, stratify=data.target
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

model = tf.keras.Sequential(
    [
        tf.keras.layers.Dense(32, activation="relu", input_shape=(X_train.shape[1],)),
        tf.keras.layers.BatchNormalization(),
        tf.keras.layers.Dense(16, activation="relu"),
        tf.keras.layers.Dense(1, activation="sigmoid"),
    ]
)
model.compile(
    optimizer=tf.keras.optimizers.Adam(learning_rate=1e-3),
    loss="binary_crossentropy",
    metrics=[
        "accuracy",
        tf.keras.metrics.AUC(),
        tf.keras.metrics.Precision(),
        tf.keras.metrics.Recall(),
    ],
)

# Malignant (0) is the rarer class: weigh it up.
counts = np.bincount(y_train)
class_weight = {0: len(y_train) / (2 * counts[0]), 1: len(y_train) / (2 * counts[1])}
history = model.fit(
    X_train, y_train, epochs=30, batch_size=16, class_weight=class_weight, verbose=0
)
print("history keys:", sorted(history.history))

scores = model.evaluate(X_test, y_test, verbose=0, return_dict=True)
print("metrics_names:", model.metrics_names)
for name, value in scores.items():
    print(f"{name}: {value:.4f}")
print(
    "RESULT "
    + json.dumps(
        {
            "test_accuracy": scores["accuracy"],
            "test_auc": scores["auc"],
            "test_precision": scores["precision"],
            "test_recall": scores["recall"],
            "history_keys": sorted(history.history),
            "metrics_names": list(model.metrics_names),
        }
    )
)
