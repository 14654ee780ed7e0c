"""A Keras script in the style of the article, ported by changing one line.

The original starts with ``import tensorflow as tf``; here that single line
reads ``from backprop_lab.compat import tf`` and nothing else changes.
Like the original, it splits its data with scikit-learn, which the project
does not need: ``pip install -e '.[examples]'`` in the clone installs it.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from backprop_lab.compat import tf


def circle_points(count):
    points = np.random.uniform(-1, 1, (count, 2))
    labels = np.zeros((count, 1))
    for i in range(count):
        a, b = points[i]
        if a**2 + b**2 <= 0.25:
            labels[i] = 1
    return points, labels


def make_network():
    return tf.keras.Sequential(
        [
            tf.keras.layers.Dense(8, activation="relu", input_shape=(2,)),
            tf.keras.layers.Dense(1, activation="sigmoid"),
        ]
    )


def main():
    points, labels = circle_points(5000)
    x_train, x_test, y_train, y_test = train_test_split(points, labels, test_size=0.2)
    network = make_network()
    network.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    network.fit(x_train, y_train, epochs=50, batch_size=32, validation_data=(x_test, y_test))
    loss, accuracy = network.evaluate(x_test, y_test)
    print(f"Test Accuracy: {accuracy * 100:.2f}%")

    gx, gy = np.mgrid[-1:1:0.01, -1:1:0.01]
    probs = network.predict(np.c_[gx.ravel(), gy.ravel()]).reshape(gx.shape)
    plt.contourf(gx, gy, probs, levels=[0, 0.5, 1], cmap="RdBu", alpha=0.6)
    plt.scatter(x_train[:, 0], x_train[:, 1], c=y_train[:, 0], cmap="RdBu", edgecolors="k")
    plt.show()


if __name__ == "__main__":
    main()
