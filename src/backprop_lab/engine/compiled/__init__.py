"""The compiled engine: the NumPy engine's math as numba kernels.

``kernels`` holds the loops (a translation of the NumPy engine, commented as
one); ``trainer`` decides which models they support, packs a model for them
and drives them through the same trainer interface as the NumPy loop.

May import: the rest of ``engine`` and numba.
"""
