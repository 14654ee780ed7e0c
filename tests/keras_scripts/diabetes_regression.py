"""Diabetes regression (`from tensorflow import keras`): mae/mse metrics, an
ExponentialDecay schedule, the Huber loss and ReduceLROnPlateau."""

import json

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from tensorflow import keras

keras.utils.set_random_seed(11)

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=11)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
y_mean, y_std = y_train.mean(), y_train.std()

model = keras.Sequential(
    [
        keras.layers.Dense(16, activation="relu", input_shape=(10,)),
        keras.layers.Dense(1),
    ]
)
schedule = keras.optimizers.schedules.ExponentialDecay(
    initial_learning_rate=0.01, decay_steps=100, decay_rate=0.9
)
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=schedule),
    loss=keras.losses.Huber(delta=1.0),
    metrics=["mae", "mse"],
)
history = model.fit(
    X_train,
    (y_train - y_mean) / y_std,
    epochs=60,
    batch_size=32,
    validation_split=0.2,
    verbose=0,
)
print("last epoch:", {k: round(v[-1], 4) for k, v in history.history.items()})

predictions = model.predict(X_test, verbose=0).ravel() * y_std + y_mean
mse = float(np.mean((predictions - y_test) ** 2))
r2 = 1 - mse / float(np.var(y_test))
print(f"test MSE: {mse:.1f}, R^2: {r2:.3f}")
print("RESULT " + json.dumps({"r2": r2, "history_keys": sorted(history.history)}))
