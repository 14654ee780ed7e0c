"""Loss functions with Keras 3's semantics and their gradients.

A loss gives the engine ``value(Y, P, weights=None)``, ``backward(Y, P,
weights=None)`` (``dL/dP``) and, for an output activation it fuses with,
``backward_logits``; targets ``Y`` come from ``prepare_targets``, which turns
what a user passes as ``y`` into a 2-D array once, before training.  Called
directly, ``loss(y_true, y_pred, sample_weight=None)`` is Keras's call.

- ``_base``: the base class, Keras's reduction and shape rules;
- ``crossentropy``: binary, categorical and sparse categorical cross-entropy
  (``from_logits``, ``label_smoothing``, the fused gradients);
- ``regression``: squared, absolute, percentage, logarithmic, Huber, log-cosh,
  cosine similarity;
- ``margin``: the hinge losses, KL divergence and Poisson.

``get`` takes the names ``keras.losses.get`` takes, and Keras's class names.
"""

from __future__ import annotations

from .._checks import custom_refusal, keras_lookup
from ._base import EPSILON, ElementwiseLoss, Loss
from .crossentropy import BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy
from .margin import CategoricalHinge, Hinge, KLDivergence, Poisson, SquaredHinge
from .regression import (
    CosineSimilarity,
    Huber,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
)

_CLASSES = (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    MeanSquaredError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    Huber,
    LogCosh,
    CosineSimilarity,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
    KLDivergence,
    Poisson,
)
# Keras's function names; Huber's object is named "huber_loss", its function "huber".
LOSSES: dict[str, type[Loss]] = {cls.name: cls for cls in _CLASSES}
LOSSES.update(
    huber=Huber,
    bce=BinaryCrossentropy,
    kld=KLDivergence,
    mae=MeanAbsoluteError,
    mape=MeanAbsolutePercentageError,
    mse=MeanSquaredError,
    msle=MeanSquaredLogarithmicError,
)
_BY_CLASS_NAME = {cls.__name__: cls for cls in _CLASSES}

# Every name keras.losses.get accepts (Keras 3.15) besides the class names: a Keras
# loss backprop_lab lacks is refused as unsupported, any other name as unknown.
KERAS_LOSSES = frozenset(
    "BinaryFocalCrossentropy CategoricalFocalCrossentropy Dice Tversky Circle CTC "
    "CategoricalGeneralizedCrossEntropy Loss LossFunctionWrapper binary_focal_crossentropy "
    "categorical_focal_crossentropy dice tversky circle ctc "
    "categorical_generalized_cross_entropy".split()
)

__all__ = ["EPSILON", "KERAS_LOSSES", "LOSSES", "ElementwiseLoss", "Loss", "get"] + [
    cls.__name__ for cls in _CLASSES
]


def get(identifier: str | Loss | type) -> Loss:
    """Return a loss object from a name, a class name, a class or an object.

    Raises
    ------
    NotImplementedError
        For a loss Keras has and backprop_lab does not (a name, or a function or
        object of the user's own).
    ValueError
        For a name Keras does not know either.
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier) and not isinstance(identifier, str):
        raise custom_refusal("loss", identifier, "its gradient is unknown", LOSSES)
    if isinstance(identifier, str) and identifier in _BY_CLASS_NAME:
        return _BY_CLASS_NAME[identifier]()
    return keras_lookup("loss", identifier, LOSSES, KERAS_LOSSES)()
