"""The look every picture shares: colours, a new figure, saving it as a PNG.

Everything draws on :class:`matplotlib.figure.Figure` objects with the Agg
canvas attached, never on pyplot, so no window opens and no global figure list
grows.

* :data:`PROBA_CMAP` -- the light diverging map of a probability, white at 0.5.
* :data:`VALUE_CMAP` -- the diverging map of a regression's values.
* :data:`OKABE_ITO` and :func:`class_palette` -- colour-blind-safe class colours.
* :func:`new_figure` -- a white, constrained-layout figure with the Agg canvas.
* :func:`save_figure` -- write a PNG atomically.
"""

from __future__ import annotations

import math
import os
from numbers import Real
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib import colors as mcolors
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..runs.fileio import atomic_path

__all__ = [
    "BINARY_CLASS_COLORS",
    "OKABE_ITO",
    "PROBA_CMAP",
    "VALUE_CMAP",
    "class_palette",
    "lighten",
    "new_figure",
    "save_figure",
]

# RdBu_r (ColorBrewer) is diverging with white at P = 0.5, so the eye finds the
# uncertain band at once, and its red/blue ends stay distinct for the common
# red-green colour blindnesses (they differ in the blue channel and in
# lightness).  The heatmap uses the middle 60% of the map mixed 35% with
# white, so the class colours of the points (the map's dark ends) stand out.
PROBA_CMAP = mcolors.ListedColormap(
    0.65 * matplotlib.colormaps["RdBu_r"](np.linspace(0.2, 0.8, 256))[:, :3] + 0.35,
    name="RdBu_r_light",
)
BINARY_CLASS_COLORS = ("#2166ac", "#b2182b")  # RdBu's dark blue and dark red ends

# Values of a regression: PuOr (ColorBrewer), diverging and colour-blind safe,
# purple below the centre, orange above, white at it; unlike the probability
# map of a classifier, so the two kinds of picture are never confused.
VALUE_CMAP = matplotlib.colormaps["PuOr_r"].with_extremes(bad="0.6")

# Okabe & Ito's palette, designed to stay distinguishable under colour
# blindness; black last since it would make a poor region colour.
OKABE_ITO = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)


def lighten(color: Any, amount: float) -> tuple[float, float, float]:
    """Mix ``color`` with white; ``amount`` = 0 keeps it, 1 gives white."""
    rgb = np.asarray(mcolors.to_rgb(color))
    return tuple(rgb + (1.0 - rgb) * amount)


def class_palette(k: int) -> list[Any]:
    """``k`` class colours: Okabe-Ito up to 8, then tab10 / tab20, repeating beyond 20."""
    if k <= len(OKABE_ITO):
        return list(OKABE_ITO[:k])
    # Beyond eight classes no palette stays colour-blind safe; these at least stay distinct.
    colors = matplotlib.colormaps["tab10" if k <= 10 else "tab20"].colors
    return [colors[i % len(colors)] for i in range(k)]


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A white figure of ``figsize`` inches with constrained layout and the Agg canvas."""
    fig = Figure(figsize=figsize, layout="constrained", facecolor="white")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: str | os.PathLike, *, dpi: float = 120) -> Path:
    """Write ``fig`` as a PNG at ``path`` atomically.

    The picture is written to a hidden temporary file in the same folder and
    then renamed over ``path`` (``os.replace``), so a reader sees either the
    old file or the complete new one, never half a picture.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Figure to write.
    path : str or os.PathLike
        Destination; its folder must exist.
    dpi : float, default=120
        Resolution in dots per inch, > 0.

    Returns
    -------
    path : pathlib.Path
        The written file.

    Raises
    ------
    FileNotFoundError
        If the destination folder does not exist (nothing is written).
    """
    if isinstance(dpi, bool) or not isinstance(dpi, Real) or not (math.isfinite(dpi) and dpi > 0):
        raise ValueError(f"dpi must be a positive finite number, got {dpi!r}")
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        fig.savefig(f, format="png", dpi=dpi, facecolor="white")
    return path
