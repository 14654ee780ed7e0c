"""Imbalanced classes: per-sample weights in fit for a logistic regression, a
linear SVM (hinge loss on -1/+1 labels), and a Poisson regression of counts."""

import json

import keras
import numpy as np
from keras.layers import Dense
from keras.models import Sequential
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

X, y = make_classification(
    n_samples=3000,
    n_features=4,
    n_informative=3,
    n_redundant=0,
    weights=[0.85, 0.15],
    class_sep=0.8,
    random_state=13,
)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.4, random_state=13, stratify=y
)
weights = np.where(y_train == 1, 0.85 / 0.15, 1.0)  # each class weighs the same in total


def logistic_regression(sample_weight):
    keras.utils.set_random_seed(13)
    model = Sequential([Dense(1, activation="sigmoid", input_shape=(4,))])
    model.compile(
        optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"]
    )
    model.fit(X_train, y_train, sample_weight=sample_weight, epochs=30, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(X_test, y_test, verbose=0)
    minority_recall = float(np.mean(model.predict(X_test, verbose=0)[y_test == 1] > 0.5))
    return accuracy, minority_recall


plain_accuracy, plain_recall = logistic_regression(None)
weighted_accuracy, weighted_recall = logistic_regression(weights)

keras.utils.set_random_seed(13)
svm = Sequential([Dense(1, input_shape=(4,))])
svm.compile(optimizer=keras.optimizers.Adam(0.01), loss="hinge")
svm.fit(X_train, 2.0 * y_train - 1.0, epochs=30, batch_size=32, verbose=0)
hinge_accuracy = float(np.mean((svm.predict(X_test, verbose=0).ravel() > 0) == y_test))

rng = np.random.default_rng(13)
features = rng.uniform(-1, 1, size=(2000, 3))
counts = rng.poisson(np.exp(0.5 + features @ np.array([0.8, -0.5, 0.3])))
keras.utils.set_random_seed(13)
poisson_model = Sequential(
    [Dense(8, activation="relu", input_dim=3), Dense(1, activation="exponential")]
)
poisson_model.compile(optimizer=keras.optimizers.Adam(0.01), loss="poisson", metrics=["mae"])
poisson_model.fit(features[:1500], counts[:1500], epochs=20, batch_size=32, verbose=0)
_, count_mae = poisson_model.evaluate(features[1500:], counts[1500:], verbose=0)

print(f"unweighted: accuracy {plain_accuracy:.4f}, minority recall {plain_recall:.4f}")
print(f"weighted:   accuracy {weighted_accuracy:.4f}, minority recall {weighted_recall:.4f}")
print(f"linear SVM (hinge): {hinge_accuracy:.4f}; Poisson regression MAE: {count_mae:.3f}")
print(
    "RESULT "
    + json.dumps(
        {
            "unweighted_accuracy": plain_accuracy,
            "unweighted_minority_recall": plain_recall,
            "weighted_accuracy": weighted_accuracy,
            "weighted_minority_recall": weighted_recall,
            "hinge_accuracy": hinge_accuracy,
            "poisson_mae": count_mae,
        }
    )
)
