"""The missing pictures of a saved run, drawn again from its folder alone.

A run whose pictures were cut short (Ctrl-C while they were drawn) keeps
complete data files; ``redraw_missing`` draws from them what is missing:
``boundary.png``, ``curves.png``, ``network.png`` and ``gradients.png`` (from
``gradients.csv``).  ``learning.gif`` and ``landscape.png`` need what only
training records (frames, the weights' path), which a folder does not keep:
their absence is reported, not hidden.  ``backprop-lab report`` calls this.
"""

from __future__ import annotations

from ..runs.folders import read_json_object, read_result, read_run, write_json
from .learning import STANDARD_PICTURES, absent_reasons, draw_run

__all__ = ["expected_pictures", "redraw_missing"]

# Pictures that are drawn from what training recorded and the folder does not keep.
RECORDED = {"learning.gif": ("frames", "--animate"), "landscape.png": ("trajectory", "--landscape")}


def expected_pictures(config: dict, result) -> list[str]:
    """The pictures a run was drawn with (or would have been): ``result`` from ``read_result``."""
    absent = absent_reasons(result)
    recorded = config.get("recorded") or {}
    return [name for name in STANDARD_PICTURES if name not in absent] + [
        name for name, (what, _) in RECORDED.items() if recorded.get(what)
    ]


def redraw_missing(folder) -> tuple[list[str], list[str]]:
    """Draw the pictures a run folder lacks, then its ``report.html``.

    Parameters
    ----------
    folder : str or Path
        A run folder (``config.json``, ``metrics.json``, ``history.csv`` and
        the model files must be there).

    Returns
    -------
    drawn : list of str
        The pictures drawn now.
    lost : list of str
        One line per missing picture that cannot be drawn again, and why.
    """
    folder, config = read_run(folder)
    result = read_result(folder)
    missing = {name for name in expected_pictures(config, result) if not (folder / name).exists()}
    lost = [
        f"{name} cannot be drawn again: it needs the {what} recorded during training, "
        f"which the folder does not keep (train again with {option} to have it)"
        for name, (what, option) in RECORDED.items()
        if name in missing
    ]
    drawn = draw_run(folder, result, only=missing - set(RECORDED))  # and report.html
    if not lost:  # every picture is there: the interruption is mended
        metrics = read_json_object(folder / "metrics.json", "the report")
        during = metrics.get("interrupted_during") or []
        if "drawing the pictures" in during:
            during.remove("drawing the pictures")
            write_json(folder / "metrics.json", metrics)
    return [n for n in drawn if n != "report.html"], lost
