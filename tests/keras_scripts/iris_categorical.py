"""Iris with one-hot labels from to_categorical, softmax output and a separate
Activation layer; weights drawn with the "normal" initializer."""

import json

import numpy as np
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from tensorflow.keras.layers import Activation, Dense
from tensorflow.keras.models import Sequential
from tensorflow.keras.optimizers import Adam
from tensorflow.keras.utils import set_random_seed, to_categorical

set_random_seed(7)

iris = load_iris()
X = StandardScaler().fit_transform(iris.data)
y = to_categorical(iris.target)  # (150, 3) one-hot
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.5, random_state=3, stratify=iris.target
)

model = Sequential()
model.add(Dense(10, input_shape=(4,), kernel_initializer="normal"))
model.add(Activation("tanh"))
model.add(Dense(3, kernel_initializer="normal"))
model.add(Activation("softmax"))
model.compile(
    optimizer=Adam(learning_rate=0.01), loss="categorical_crossentropy", metrics=["accuracy"]
)
model.fit(X_train, y_train, epochs=60, batch_size=8, verbose=0)

loss, accuracy = model.evaluate(X_test, y_test, verbose=0)
predicted = np.argmax(model.predict(X_test, verbose=0), axis=1)
print("confusion:", np.bincount(3 * np.argmax(y_test, axis=1) + predicted, minlength=9))
print(f"Accuracy: {accuracy * 100:.2f}%")
print("RESULT " + json.dumps({"test_accuracy": float(accuracy)}))
