"""The engine: the mathematics of backpropagation and gradient descent.

Read these files as a set: ``activations``, ``losses``, ``layers`` (forward and
backward passes side by side), ``regularizers``, ``initializers``,
``optimizers`` (each update rule written in its docstring), ``model``
(``Sequential``), ``training`` (the loop and the NumPy trainer), ``engines``
(which engine runs a model), ``callbacks``, ``progress`` (the progress bar),
``metrics``, ``random`` and ``gradcheck``.  ``compiled/`` runs the same math
as numba kernels.

May import: NumPy and numba only; nothing else from backprop_lab.
"""
