"""The integer codes and array columns the kernels share (see ``kernels`` for the layout).

numba folds these module constants into the compiled code.
"""

# What the kernels branch on.
LINEAR, RELU, LEAKY_RELU, TANH, SIGMOID, SOFTMAX = range(6)
BCE, CCE, MSE = range(3)
SGD, ADAM, RMSPROP, ADAGRAD = range(4)
# Columns of ``spec`` (int64, one row per layer) and ``lconst`` (float64).
FAN_IN, UNITS, W_OFF, B_OFF, COL_IN, COL_OUT, ACT = range(7)
SLOPE, L1, L2 = range(3)
# Entries of ``hp`` (float64), the optimizer's hyper-parameters.
LR, MOMENTUM, NESTEROV, BETA_1, BETA_2, EPS, RHO = range(7)
