"""``BatchNormalization``: standardize each feature over the batch, then scale and shift."""

from __future__ import annotations

import numpy as np

from .. import initializers
from .base import Layer
from .dense import _initializer_name, refuse_constraints


class BatchNormalization(Layer):
    """``A = gamma * (X - mean) / sqrt(var + epsilon) + beta``, feature by feature.

    While training, ``mean`` and ``var`` are the batch's (the biased variance,
    as Keras) and the moving statistics move towards them::

        moving_mean = moving_mean * momentum + mean * (1 - momentum)
        moving_variance = moving_variance * momentum + var * (1 - momentum)

    At inference the moving statistics take their place.

    Parameters
    ----------
    axis : {-1, 1}
        The feature axis (the only one of a flat input).
    momentum : float
    epsilon : float
        Added to the variance before the square root.
    center, scale : bool
        Learn ``beta`` / ``gamma``; without them ``beta = 0`` / ``gamma = 1``.
    beta_initializer, gamma_initializer, moving_mean_initializer, moving_variance_initializer
        Names from ``initializers.INITIALIZERS``; Keras's defaults.
    beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint, renorm,
    renorm_clipping, synchronized
        Only the defaults; anything else raises NotImplementedError.
    name, dtype
        See ``Layer``.

    Attributes
    ----------
    gamma, beta : ndarray of shape (units,)
        Trainable (when ``scale`` / ``center``).
    moving_mean, moving_variance : ndarray of shape (units,)
        Non-trainable: ``weights`` lists them after ``params``, as Keras does.
    """

    kind = "batch_normalization"
    state_names = ("moving_mean", "moving_variance")

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        renorm: bool = False,
        renorm_clipping=None,
        renorm_momentum: float = 0.99,
        synchronized: bool = False,
        *,
        input_shape=None,
        input_dim=None,
        trainable: bool = True,
        dtype: str | None = None,
        name: str | None = None,
    ):
        if axis not in (-1, 1):
            raise NotImplementedError(
                f"BatchNormalization(axis={axis!r}) is not supported by backprop_lab; inputs "
                "are flat (n_samples, n_features), so the feature axis is -1 (or 1)"
            )
        refuse_constraints(
            beta_regularizer=beta_regularizer,
            gamma_regularizer=gamma_regularizer,
            beta_constraint=beta_constraint,
            gamma_constraint=gamma_constraint,
            renorm_clipping=renorm_clipping,
        )
        for option, value in (("renorm", renorm), ("synchronized", synchronized)):
            if value:
                raise NotImplementedError(f"{option}={value!r} is not supported by backprop_lab")
        super().__init__(
            input_shape=input_shape,
            input_dim=input_dim,
            trainable=trainable,
            dtype=dtype,
            name=name,
        )
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.param_names = ("gamma",) * self.scale + ("beta",) * self.center
        self.initializers = {
            "gamma": initializers.get(gamma_initializer),
            "beta": initializers.get(beta_initializer),
            "moving_mean": initializers.get(moving_mean_initializer),
            "moving_variance": initializers.get(moving_variance_initializer),
        }

    def build(self, fan_in, rng, dtype):
        super().build(fan_in, rng, dtype)
        made = {
            name: init((fan_in,), rng, self.dtype).astype(self.dtype)
            for name, init in self.initializers.items()
        }
        self.gamma = made["gamma"] if self.scale else None
        self.beta = made["beta"] if self.center else None
        self.moving_mean, self.moving_variance = made["moving_mean"], made["moving_variance"]
        self.params = [made[name] for name in self.param_names]
        self.grads = [np.zeros_like(p) for p in self.params]

    @property
    def state(self):
        return [self.moving_mean, self.moving_variance]

    def _split(self, weights):
        """``(gamma, beta, mean, variance)`` from a list ordered as ``weights``."""
        weights = list(weights)
        gamma = weights.pop(0) if self.scale else 1
        beta = weights.pop(0) if self.center else 0
        mean, variance = weights
        return gamma, beta, mean, variance

    def apply(self, X, *weights):
        """Inference: normalize with the moving statistics, caching and changing nothing.

        Parameters
        ----------
        X : ndarray of shape (n_samples, units)
        *weights : ndarray of shape (units,), optional
            ``gamma, beta, moving_mean, moving_variance`` (those the layer has)
            to use instead of its own.
        """
        gamma, beta, mean, variance = self._split(weights or self.weights)
        return gamma * (X - mean) / np.sqrt(variance + X.dtype.type(self.epsilon)) + beta

    def forward(self, X):
        """Training: normalize with the batch's statistics and update the moving ones.

        Parameters
        ----------
        X : ndarray of shape (n_samples, units)

        Returns
        -------
        A : ndarray of shape (n_samples, units)
        """
        gamma, beta, _, _ = self._split(self.weights)
        mean = X.mean(axis=0)
        variance = X.var(axis=0)  # biased (divides by n), as Keras
        self.inv_std = 1 / np.sqrt(variance + X.dtype.type(self.epsilon))
        self.Xhat = (X - mean) * self.inv_std
        momentum, rest = X.dtype.type(self.momentum), X.dtype.type(1.0 - self.momentum)
        self.moving_mean[...] = self.moving_mean * momentum + mean * rest
        self.moving_variance[...] = self.moving_variance * momentum + variance * rest
        return gamma * self.Xhat + beta

    def backward(self, dA):
        """Gradients through the batch statistics (every sample moves the mean and variance).

        With ``Xhat = (X - mean) * inv_std`` and ``A = gamma * Xhat + beta``::

            dgamma = sum(dA * Xhat)        dbeta = sum(dA)       (over the batch)
            dXhat = dA * gamma
            dX = (1/n) * inv_std * (n * dXhat - sum(dXhat) - Xhat * sum(dXhat * Xhat))

        Parameters
        ----------
        dA : ndarray of shape (n_samples, units)

        Returns
        -------
        dX : ndarray of shape (n_samples, units)
        """
        n, Xhat = len(dA), self.Xhat
        grads = dict(zip(self.param_names, self.grads))
        if self.scale:
            np.sum(dA * Xhat, axis=0, out=grads["gamma"])
        if self.center:
            np.sum(dA, axis=0, out=grads["beta"])
        dXhat = dA * self.gamma if self.scale else dA
        return (
            self.inv_std / n * (n * dXhat - dXhat.sum(axis=0) - Xhat * (dXhat * Xhat).sum(axis=0))
        )

    def get_config(self) -> dict:
        names = {f"{k}_initializer": _initializer_name(v) for k, v in self.initializers.items()}
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            **names,
        }

    def __repr__(self) -> str:
        return f"BatchNormalization(momentum={self.momentum:g}, epsilon={self.epsilon:g})"
