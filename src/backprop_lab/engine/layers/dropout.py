"""``Dropout``: zero a random fraction of the inputs while training (inverted dropout)."""

from __future__ import annotations

from numbers import Real

import numpy as np

from .base import Layer


class Dropout(Layer):
    """Sets each input to 0 with probability ``rate`` while training, and scales the
    others by ``1 / (1 - rate)`` so the expected sum is unchanged; the identity at
    inference.

    Parameters
    ----------
    rate : float in [0, 1]
        Fraction of the inputs to drop.
    noise_shape : None
        Other values raise NotImplementedError.
    seed : int, optional
        Draw the masks from ``numpy.random.default_rng(seed)``; by default they
        come from the model's generator (``Sequential(seed=...)``).
    name, dtype
        See ``Layer``.

    Attributes
    ----------
    mask : ndarray of shape (n_samples, units)
        The last training pass's mask (1 kept, 0 dropped).
    """

    kind = "dropout"
    identity_at_inference = True

    def __init__(
        self,
        rate: float,
        noise_shape=None,
        seed: int | None = None,
        *,
        input_shape=None,
        input_dim=None,
        trainable: bool = True,
        dtype: str | None = None,
        name: str | None = None,
    ):
        if isinstance(rate, bool) or not isinstance(rate, Real) or not 0 <= rate <= 1:
            raise ValueError(
                "Invalid value received for argument `rate`. Expected a float value "
                f"between 0 and 1. Received: rate={rate}"
            )
        if noise_shape is not None:
            raise NotImplementedError(
                f"Dropout(noise_shape={noise_shape!r}) is not supported by backprop_lab; "
                "each input gets its own draw"
            )
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"Dropout seed must be an integer or None, got {seed!r}")
        super().__init__(
            input_shape=input_shape,
            input_dim=input_dim,
            trainable=trainable,
            dtype=dtype,
            name=name,
        )
        self.rate = float(rate)
        self.seed = seed
        self.rng = None if seed is None else np.random.default_rng(seed)

    def build(self, fan_in, rng, dtype):
        super().build(fan_in, rng, dtype)
        if self.seed is None:
            self.rng = rng  # the model's generator: one seed reproduces the whole run

    def apply(self, X, *weights):
        """Inference: the identity (Keras drops nothing outside training)."""
        return X

    def forward(self, X):
        """Training: ``A = X * mask / (1 - rate)`` with ``mask ~ Bernoulli(1 - rate)``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, units)

        Returns
        -------
        A : ndarray of shape (n_samples, units)
        """
        keep = 1.0 - self.rate
        self.mask = (self.rng.random(X.shape) < keep).astype(X.dtype)
        # Keras returns zeros for rate 1 instead of dividing by 0.
        self.scale = X.dtype.type(1.0 / keep if keep > 0 else 0.0)
        return X * self.mask * self.scale

    def backward(self, dA):
        """``dX = dA * mask / (1 - rate)``: only the kept inputs got a gradient."""
        return dA * self.mask * self.scale

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": None}

    def __repr__(self) -> str:
        return f"Dropout({self.rate:g})"
