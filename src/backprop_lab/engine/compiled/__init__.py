"""The compiled engine: the NumPy engine's math as numba kernels.

``kernels`` holds the layer, optimizer and training loops and ``pointwise``
the activations and losses (a translation of the NumPy engine, commented as
one), ``codes`` the numbers they branch on; ``whole_fit`` is the training
loop written out for the article's family of models, all epochs in one call,
and ``pcg64`` (used by ``orders``) draws the epochs' permutations as NumPy
does; ``trainer`` decides which models they support, packs a model for them
and drives them through the same trainer interface as the NumPy loop.
``whole_fit.c`` is a C translation of the kernels for the article's family,
built by the system C compiler and loaded by ``native``: that family then
trains and predicts without importing numba at all.

May import: the rest of ``engine`` and numba (only inside the kernel modules,
``kernels``, ``pointwise``, ``whole_fit``, ``pcg64``, which ``trainer`` imports
when a numba kernel first runs).
"""
