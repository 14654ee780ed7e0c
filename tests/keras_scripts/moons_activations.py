"""A tour of activations: one small network per activation on the same moons,
each reporting its test accuracy."""

import json

import keras
from keras import layers
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split

X, y = make_moons(n_samples=1200, noise=0.15, random_state=4)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=4)

accuracies = {}
for activation in ["elu", "selu", "gelu", "swish", "softplus", "softsign", "relu6"]:
    keras.utils.set_random_seed(4)
    model = keras.Sequential(
        [
            keras.Input(shape=(2,)),
            layers.Dense(16, activation=activation),
            layers.Dense(16, activation=activation),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.02), loss="binary_crossentropy", metrics=["accuracy"]
    )
    model.fit(X_train, y_train, epochs=100, batch_size=32, verbose=0)
    accuracies[activation] = model.evaluate(X_test, y_test, verbose=0)[1]
    print(f"{activation:>9}: {accuracies[activation]:.3f}")

print("RESULT " + json.dumps({f"{name}_accuracy": acc for name, acc in accuracies.items()}))
