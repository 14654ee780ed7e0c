"""Drop-in namespaces for Keras scripts.

Change one line of a Keras script and it runs on backprop-lab::

    import tensorflow as tf            ->  from backprop_lab.compat import tf
    import keras                       ->  from backprop_lab import keras

Only the subset below is provided.  Asking for anything else (a Conv2D layer,
``fit(sample_weight=...)``) raises ``NotImplementedError`` naming the missing
feature, so a script never silently does something different from Keras.
"""

from __future__ import annotations

import inspect

from .engine import callbacks as _callbacks
from .engine import initializers as _init
from .engine import losses as _losses
from .engine import optimizers as _optimizers
from .engine import regularizers as _regularizers
from .engine.layers import Dense as _Dense
from .engine.layers import Input
from .engine.model import NotSupported, Sequential
from .engine.random import set_random_seed


class _Namespace:
    """A module-like object whose missing attributes raise ``NotSupported``
    (a NotImplementedError, and an AttributeError so ``hasattr`` answers no)."""

    def __init__(self, path: str, **members):
        self._path = path
        self.__dict__.update(members)

    def __getattr__(self, name):
        if name.startswith("__"):  # let copy, pickle and inspect probe as usual
            raise AttributeError(name)
        supported = ", ".join(sorted(k for k in self.__dict__ if not k.startswith("_")))
        raise NotSupported(
            f"{self._path}.{name} is not supported by backprop_lab; "
            f"{self._path} provides: {supported}"
        )

    def __repr__(self) -> str:
        return f"<backprop_lab stand-in for {self._path}>"


def _supported(cls):
    """``cls`` as a Keras class: keyword options it lacks raise NotImplementedError."""
    accepted = inspect.signature(cls).parameters

    def make(*args, **kwargs):
        for key in kwargs:
            if key not in accepted:
                raise NotImplementedError(
                    f"{cls.__name__}({key}=...) is not supported by backprop_lab"
                )
        return cls(*args, **kwargs)

    make.__name__ = make.__qualname__ = cls.__name__
    make.__doc__ = cls.__doc__
    return make


Dense = _supported(_Dense)


def _initializer(fn):
    """A Keras initializer class (``HeNormal()``) that returns our initializer."""

    def make(seed=None):
        if seed is not None:
            raise NotImplementedError(
                "initializer seeds are not supported by backprop_lab; seed the model "
                "with Sequential(seed=...) or set_random_seed"
            )
        return fn

    return make


def _loss(cls):
    """A Keras loss class taking Keras's default arguments and refusing the rest."""

    def make(from_logits=False, **kwargs):
        if from_logits or kwargs:
            options = ["from_logits"] if from_logits else list(kwargs)
            raise NotImplementedError(
                f"{cls.__name__}({', '.join(options)}=...) is not supported by backprop_lab"
            )
        return cls()

    return make


def _clear_session():
    """Nothing to clear: backprop-lab keeps no global graph or session."""


def _make_keras(path: str) -> _Namespace:
    layers = _Namespace(f"{path}.layers", Dense=Dense, Input=Input)
    optimizers = _Namespace(
        f"{path}.optimizers",
        SGD=_supported(_optimizers.SGD),
        Adam=_supported(_optimizers.Adam),
        RMSprop=_supported(_optimizers.RMSprop),
        Adagrad=_supported(_optimizers.Adagrad),
    )
    losses = _Namespace(
        f"{path}.losses",
        BinaryCrossentropy=_loss(_losses.BinaryCrossentropy),
        CategoricalCrossentropy=_loss(_losses.CategoricalCrossentropy),
        SparseCategoricalCrossentropy=_loss(_losses.SparseCategoricalCrossentropy),
        MeanSquaredError=_loss(_losses.MeanSquaredError),
        binary_crossentropy="binary_crossentropy",
        categorical_crossentropy="categorical_crossentropy",
        sparse_categorical_crossentropy="sparse_categorical_crossentropy",
        mean_squared_error="mean_squared_error",
        mse="mean_squared_error",
    )
    initializers = _Namespace(
        f"{path}.initializers",
        GlorotUniform=_initializer(_init.glorot_uniform),
        GlorotNormal=_initializer(_init.glorot_normal),
        HeUniform=_initializer(_init.he_uniform),
        HeNormal=_initializer(_init.he_normal),
        RandomUniform=_initializer(_init.random_uniform),
        Zeros=_initializer(_init.zeros),
        Ones=_initializer(_init.ones),
    )
    regularizers = _Namespace(
        f"{path}.regularizers",
        L1=_supported(_regularizers.L1),
        L2=_supported(_regularizers.L2),
        L1L2=_supported(_regularizers.L1L2),
        l1=_supported(_regularizers.L1),
        l2=_supported(_regularizers.L2),
        l1_l2=_supported(_regularizers.L1L2),
    )
    callbacks = _Namespace(
        f"{path}.callbacks",
        Callback=_callbacks.Callback,
        EarlyStopping=_supported(_callbacks.EarlyStopping),
        History=_callbacks.History,
        TerminateOnNaN=_callbacks.TerminateOnNaN,
    )
    return _Namespace(
        path,
        Sequential=Sequential,
        Input=Input,
        layers=layers,
        models=_Namespace(f"{path}.models", Sequential=Sequential),
        optimizers=optimizers,
        losses=losses,
        initializers=initializers,
        regularizers=regularizers,
        callbacks=callbacks,
        utils=_Namespace(f"{path}.utils", set_random_seed=set_random_seed),
        backend=_Namespace(f"{path}.backend", clear_session=_clear_session),
    )


keras = _make_keras("keras")
"""Stand-in for ``import keras`` (Keras 3)."""

tf = _Namespace(
    "tf",
    keras=_make_keras("tf.keras"),
    random=_Namespace("tf.random", set_seed=set_random_seed),
)
"""Stand-in for ``import tensorflow as tf``, providing ``tf.keras``."""
