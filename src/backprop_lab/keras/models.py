"""``keras.models``: ``Sequential``, and ``.keras`` model files.

``keras.Model`` (the functional API and subclassed models) is refused: only
``Sequential`` models are supported.
"""

from ..engine import keras_format as _format
from ..engine import keras_loading as _loading
from ..engine.model import Sequential as _Sequential
from ._names import KerasClass, Refused, refuse_missing

Sequential = KerasClass(_Sequential)
Model = Refused(
    "keras.Model",
    "only Sequential models are (the functional API and subclassed models are not)",
)
save_model = _format.save_model
model_from_json = _loading.model_from_json


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """The ``Sequential`` saved in a ``.keras`` file, as ``keras.models.load_model``.

    Only the defaults of Keras's options are supported: no custom objects are
    needed (the file never names code), and loading is always safe.
    """
    if custom_objects or compile is not True or safe_mode is not True:
        option = (
            "custom_objects"
            if custom_objects
            else "compile"
            if compile is not True
            else "safe_mode"
        )
        raise NotImplementedError(f"load_model({option}=...) is not supported by backprop_lab")
    return _loading.load_model(filepath)


__all__ = ["Model", "Sequential", "load_model", "model_from_json", "save_model"]
__getattr__ = refuse_missing("keras.models", __all__)
