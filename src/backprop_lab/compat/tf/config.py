"""``tf.config``: ``list_physical_devices``, which scripts call to look for a GPU.

backprop-lab computes on the CPU (NumPy, or numba kernels): it has one CPU
device and no GPU or TPU.
"""

from typing import NamedTuple

from ...keras._names import refuse_missing


class PhysicalDevice(NamedTuple):
    """As TensorFlow describes a device: ``PhysicalDevice(name, device_type)``."""

    name: str
    device_type: str


def list_physical_devices(device_type: str | None = None) -> list[PhysicalDevice]:
    """The CPU for ``None`` or ``"CPU"``; no device of any other type."""
    cpu = PhysicalDevice("/physical_device:CPU:0", "CPU")
    return [cpu] if device_type in (None, "CPU") else []


__all__ = ["list_physical_devices"]
__getattr__ = refuse_missing("tf.config", __all__)
