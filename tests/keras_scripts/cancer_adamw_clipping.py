"""Breast cancer with the regularising optimizer settings of recent tutorials:
AdamW (decoupled weight decay), Adam with weight_decay, and gradient clipping
by norm and by value on SGD; He and Glorot initializers by name."""

import json

import keras
from keras import layers, optimizers
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4, random_state=9, stratify=y)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

settings = {
    "adamw": lambda: optimizers.AdamW(learning_rate=1e-3, weight_decay=0.01),
    "adam_weight_decay": lambda: optimizers.Adam(learning_rate=1e-3, weight_decay=0.004),
    "sgd_clipnorm": lambda: optimizers.SGD(learning_rate=0.05, clipnorm=1.0),
    "sgd_clipvalue": lambda: optimizers.SGD(learning_rate=0.05, momentum=0.5, clipvalue=0.5),
}
results = {}
for name, make_optimizer in settings.items():
    keras.utils.set_random_seed(9)
    model = keras.Sequential(
        [
            layers.Input(shape=(30,)),
            layers.Dense(32, activation="relu", kernel_initializer="he_normal"),
            layers.Dense(1, activation="sigmoid", kernel_initializer="glorot_uniform"),
        ]
    )
    model.compile(optimizer=make_optimizer(), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(X_train, y_train, epochs=25, batch_size=32, verbose=0)
    results[f"{name}_accuracy"] = model.evaluate(X_test, y_test, verbose=0)[1]
    print(f"{name:>24}: {results[name + '_accuracy']:.4f}")

print("RESULT " + json.dumps(results))
