"""Wine with a linear output layer trained on logits
(SparseCategoricalCrossentropy(from_logits=True)), then with one-hot labels
and label smoothing; hidden layers without bias, Nesterov momentum."""

import json

import numpy as np
import tensorflow as tf
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

tf.keras.utils.set_random_seed(8)

X, y = load_wine(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=8, stratify=y)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)


def build(output_activation=None):
    return tf.keras.Sequential(
        [
            tf.keras.Input(shape=(13,)),
            tf.keras.layers.Dense(16, activation="relu", use_bias=False),
            tf.keras.layers.Dense(3, activation=output_activation),
        ]
    )


logit_model = build()
logit_model.compile(
    optimizer=tf.keras.optimizers.SGD(learning_rate=0.02, momentum=0.9, nesterov=True),
    loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
logit_model.fit(X_train, y_train, epochs=40, batch_size=16, verbose=0)
logits = logit_model.predict(X_test, verbose=0)
logit_accuracy = float(np.mean(np.argmax(logits, axis=1) == y_test))

smooth_model = build("softmax")
smooth_model.compile(
    optimizer=tf.keras.optimizers.Adam(0.01),
    loss=tf.keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
    metrics=["accuracy"],
)
smooth_model.fit(
    X_train, tf.keras.utils.to_categorical(y_train, 3), epochs=100, batch_size=16, verbose=0
)
_, smooth_accuracy = smooth_model.evaluate(
    X_test, tf.keras.utils.to_categorical(y_test, 3), verbose=0
)
print(f"from logits: {logit_accuracy:.4f}  label smoothing: {smooth_accuracy:.4f}")
print(
    "RESULT "
    + json.dumps({"logits_accuracy": logit_accuracy, "smoothed_accuracy": smooth_accuracy})
)
