"""``keras.saving``: ``.keras`` model files (the same functions as ``keras.models``)."""

from ._names import refuse_missing
from .models import load_model, save_model

__all__ = ["load_model", "save_model"]
__getattr__ = refuse_missing("keras.saving", __all__)
