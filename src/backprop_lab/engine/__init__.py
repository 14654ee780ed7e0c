"""The engine: the mathematics of backpropagation and gradient descent.

Read these files as a set:

* the math, forward and backward side by side: ``activations``, ``losses/``,
  ``layers/`` (Dense, Dropout, Activation, BatchNormalization),
  ``regularizers``, ``initializers``;
* the update rules, each written in its docstring: ``optimizer_base`` (clipping,
  weight decay, the learning rate), ``optimizers``, ``more_optimizers``, and the
  learning-rate ``schedules``;
* the model and its training: ``model`` (``Sequential``'s structure and math),
  ``trainer`` (compile / fit / evaluate / predict), ``training`` (the loop and
  the NumPy trainer), ``engines`` (which engine runs a model), ``callbacks``,
  ``schedule_callbacks``, ``file_callbacks``, ``progress`` (the progress bar);
* measuring: ``keras_metrics`` (Keras's streaming metrics), ``compile_metrics``
  (how ``compile(metrics=...)`` names and resolves them), ``metrics`` (the run
  helpers: confusion matrix, per-class scores, R²), ``gradcheck``, ``random``;
* Keras's model files: ``keras_config`` (configs as Keras writes them),
  ``keras_format`` (writing ``.keras`` and ``.weights.h5``), ``keras_loading``.

``compiled/`` runs the same math as numba kernels.

May import: NumPy, SciPy (``erf``), numba and h5py only; nothing else from backprop_lab.
"""
