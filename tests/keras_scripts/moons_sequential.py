"""Two moons with a small dense network, the way most introductions start.

Imports by module path, ``input_dim`` on the first layer, the "uniform"
initializer, SGD with momentum, and the metric asked for as "acc" (so the
history key is "acc").
"""

import json

import numpy as np
from keras.layers import Dense
from keras.models import Sequential
from keras.optimizers import SGD
from keras.utils import set_random_seed
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split

set_random_seed(42)

X, y = make_moons(n_samples=2000, noise=0.2, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)

model = Sequential()
model.add(Dense(16, input_dim=2, activation="relu", kernel_initializer="uniform"))
model.add(Dense(16, activation="relu", kernel_initializer="uniform"))
model.add(Dense(1, activation="sigmoid"))

model.compile(
    loss="binary_crossentropy", optimizer=SGD(learning_rate=0.1, momentum=0.9), metrics=["acc"]
)
history = model.fit(X_train, y_train, epochs=40, batch_size=32, verbose=0)

print("final training accuracy:", round(history.history["acc"][-1], 4))
loss, acc = model.evaluate(X_test, y_test, verbose=0)
predictions = (model.predict(X_test, verbose=0) > 0.5).astype("int32").ravel()
print(f"Test loss: {loss:.4f}, test accuracy: {acc:.4f}")
print("RESULT " + json.dumps({"test_accuracy": float(np.mean(predictions == y_test))}))
