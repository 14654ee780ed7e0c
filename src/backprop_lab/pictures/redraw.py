"""The missing pictures of a saved run, drawn again from its folder.

A run whose pictures were cut short (Ctrl-C while they were drawn) keeps
complete data files; ``redraw_missing`` draws from them what is missing:
``boundary.png``, ``curves.png``, ``network.png`` and ``gradients.png`` (from
``gradients.csv``).  Which pictures a run has comes from ``config.json`` and
``gradients.csv`` alone, so a complete run only gets its ``report.html``
rebuilt.  ``boundary.png`` and ``network.png`` need the data too, made again
from the run's settings or read again from its CSV file: when that fails
(the CSV file moved), they are reported as lost with the reason and the rest
is drawn.  ``learning.gif`` and ``landscape.png`` need what only training
records (frames, the weights' path), which a folder does not keep: their
absence is reported, not hidden.  ``backprop-lab report`` calls this.
"""

from __future__ import annotations

from pathlib import Path

from ..runs.folders import (
    GRADIENTS_FILE,
    add_data,
    read_json_object,
    read_result,
    read_run,
    write_json,
)
from .learning import PLANE_PICTURES, STANDARD_PICTURES, absent_reasons, draw_run
from .report import write_report

__all__ = ["expected_pictures", "redraw_missing"]

# Pictures that are drawn from what training recorded and the folder does not keep.
RECORDED = {"learning.gif": ("frames", "--animate"), "landscape.png": ("trajectory", "--landscape")}


def _architecture(folder: Path, config: dict) -> tuple[int, int]:
    """``(n_features, hidden layers)`` of the run, from ``config.json``'s ``model``."""
    model = config.get("model")
    n_features = model.get("n_features") if isinstance(model, dict) else None
    layers = model.get("layers") if isinstance(model, dict) else None
    if not (
        isinstance(n_features, int) and n_features >= 1 and isinstance(layers, list) and layers
    ):
        raise ValueError(
            f"{folder / 'config.json'} has no 'model' with n_features (a positive integer) "
            "and layers (a non-empty list); is it a run folder written by backprop-lab train?"
        )
    return n_features, len(layers) - 1


def expected_pictures(folder: Path, config: dict) -> list[str]:
    """The pictures a run was drawn with (or would have been), without loading the run.

    Parameters
    ----------
    folder : Path
        The run folder: whether it has ``gradients.csv`` counts.
    config : dict
        Its ``config.json``: ``model`` gives the input features and the layers,
        ``recorded`` whether frames and the weights' trajectory were recorded.

    Returns
    -------
    list of str
        Of ``STANDARD_PICTURES`` those ``draw_run`` draws for such a run, then
        the pictures of what training recorded.
    """
    n_features, hidden = _architecture(folder, config)
    absent = absent_reasons(n_features, hidden, gradients=(folder / GRADIENTS_FILE).exists())
    recorded = config.get("recorded") or {}
    return [name for name in STANDARD_PICTURES if name not in absent] + [
        name for name, (what, _) in RECORDED.items() if recorded.get(what)
    ]


def redraw_missing(folder) -> tuple[list[str], list[str]]:
    """Draw the pictures a run folder lacks, then its ``report.html``.

    Parameters
    ----------
    folder : str or Path
        A run folder (``config.json`` and ``metrics.json`` must be there;
        ``history.csv`` and the model files too when a picture is missing).

    Returns
    -------
    drawn : list of str
        The pictures drawn now.
    lost : list of str
        One line per missing picture that cannot be drawn again, and why.

    Raises
    ------
    ValueError
        A file the report or a missing picture needs is missing or malformed.
    """
    folder, config = read_run(folder)
    missing = {name for name in expected_pictures(folder, config) if not (folder / name).exists()}
    lost = [
        f"{name} cannot be drawn again: it needs the {what} recorded during training, "
        f"which the folder does not keep (train again with {option} to have it)"
        for name, (what, option) in RECORDED.items()
        if name in missing
    ]
    wanted = missing - set(RECORDED)
    drawn = []
    if wanted:
        result = read_result(folder, data=False)
        if wanted & PLANE_PICTURES:
            try:
                add_data(result)
            except ValueError as e:
                lost += [
                    f"{name} cannot be drawn again: it needs the training data, and {e}"
                    for name in STANDARD_PICTURES
                    if name in wanted & PLANE_PICTURES
                ]
                wanted -= PLANE_PICTURES
        drawn = [n for n in draw_run(folder, result, only=wanted) if n != "report.html"]
    else:
        write_report(folder)
    if not lost:  # every picture is there: the interruption is mended
        metrics = read_json_object(folder / "metrics.json", "the report")
        during = metrics.get("interrupted_during") or []
        if "drawing the pictures" in during:
            during.remove("drawing the pictures")
            write_json(folder / "metrics.json", metrics)
    return drawn, lost
