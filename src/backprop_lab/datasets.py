"""``backprop_lab.datasets``: the public name of the datasets (they live in ``data``)."""

from .data.datasets import *  # noqa: F403
from .data.datasets import __all__  # noqa: F401
