"""A Keras 3 script (``import keras``) ported by changing its import line."""

import numpy as np

from backprop_lab import keras

keras.utils.set_random_seed(7)
x = np.random.uniform(-1, 1, (2000, 2))
y = (np.hypot(x[:, 0], x[:, 1]) <= 0.5).astype("float32")

model = keras.Sequential(
    [
        keras.Input(shape=(2,)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ]
)
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=0.01),
    loss=keras.losses.BinaryCrossentropy(),
    metrics=["accuracy"],
)
stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
history = model.fit(x, y, epochs=100, validation_split=0.2, callbacks=[stop], verbose=2)
loss, accuracy = model.evaluate(x[-400:], y[-400:], verbose=0)
print(f"epochs run: {len(history.history['loss'])}, validation accuracy: {accuracy:.3f}")
