"""Train, save to a .keras file, load it back, and also round-trip the weights
through save_weights/load_weights and the architecture through to_json."""

import json

import keras
import numpy as np
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split

keras.utils.set_random_seed(21)

X, y = make_moons(n_samples=1500, noise=0.25, random_state=21)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4, random_state=21)


def build_model():
    model = keras.Sequential(
        [
            keras.Input(shape=(2,)),
            keras.layers.Dense(24, activation="relu"),
            keras.layers.Dense(12, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.01),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    return model


model = build_model()
model.fit(X_train, y_train, epochs=40, batch_size=32, verbose=0)
expected = model.predict(X_test, verbose=0)

model.save("moons_model.keras")
restored = keras.models.load_model("moons_model.keras")
same_after_load = bool(np.allclose(restored.predict(X_test, verbose=0), expected, atol=1e-6))
_, restored_accuracy = restored.evaluate(X_test, y_test, verbose=0)

model.save_weights("moons.weights.h5")
fresh = build_model()
fresh.load_weights("moons.weights.h5")
same_after_weights = bool(np.allclose(fresh.predict(X_test, verbose=0), expected, atol=1e-6))

config = json.loads(model.to_json())
layer_classes = [layer["class_name"] for layer in config["config"]["layers"]]

print("restored:", same_after_load, "weights:", same_after_weights, "layers:", layer_classes)
print(f"test accuracy: {restored_accuracy:.4f}")
print(
    "RESULT "
    + json.dumps(
        {
            "test_accuracy": restored_accuracy,
            "same_after_load": same_after_load,
            "same_after_load_weights": same_after_weights,
            "json_class": config["class_name"],
            "json_layers": layer_classes,
        }
    )
)
