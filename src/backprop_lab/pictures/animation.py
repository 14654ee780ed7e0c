"""``learning.gif`` (and ``learning.mp4``): the decision boundary taking shape.

Each frame is one snapshot that ``recording.StepRecorder`` took during
training: the model's output over the plane with its 0.5 boundary, next to
the training loss up to that moment, with the epoch, the step and the
accuracy in the frame.  The loss and accuracy are those of the frame's
weights on the training points the recording names (all of them, or a fixed
subset of 4,096: the same points as ``landscape.png``), and the loss axis
says which; they are not the loss ``fit`` logs, the mean over an epoch's
batches taken before each update, and the frame says so too.  Snapshots are
spaced by steps (``recording.frame_steps``), closer together at the start,
so the epoch of each frame is on the loss axis and in the frame's text.  One
figure is drawn once and its artists updated per frame, so a hundred frames
take a few seconds.

Timing: at most 12 frames per second, and never less than 6 s of motion, so
a run of any length plays in 6 to 10 s, plus 1.5 s on the final frame.
The MP4 is written through ``imageio_ffmpeg.write_frames`` with the ffmpeg
it finds (its own, else one on PATH); without imageio-ffmpeg or an ffmpeg
only the GIF is written.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from matplotlib import colors as mcolors
from matplotlib.lines import Line2D

from ..engine.metrics import grid_points
from ..runs.fileio import atomic_path, temporary_sibling
from ..runs.recording import Recording, describe_points
from . import plotting, surface
from .style import new_figure

__all__ = [
    "LOG_NOTE",
    "FrameDrawer",
    "Mp4Writer",
    "frame_durations",
    "render_frames",
    "write_animation",
    "write_gif",
]

MAX_FPS = 12
MIN_SECONDS = 6.0
HOLD_LAST_MS = 1500
FIGSIZE = (9.0, 4.0)  # inches; at DPI 96 this is 864 x 384 pixels, both multiples of 16 for H.264
DPI = 96
MP4_FPS = 24
TRUTH_RESOLUTION = 300  # grid points per side for the (static) true boundary
PALETTE_SIZE = 192
LOSS_COLOR, DOT_COLOR = "#0072B2", "#D55E00"  # Okabe-Ito blue and vermillion
_KEY_COLORS = (LOSS_COLOR, DOT_COLOR, "black", "white", "0.6")
LOG_NOTE = "not the logged loss, which is each epoch's mean over its batches during the epoch"


def frame_durations(n_frames: int) -> list[int]:
    """Display time of each frame in milliseconds (multiples of 10, as GIF stores them)."""
    if n_frames < 1:
        raise ValueError("an animation needs at least one frame")
    fps = min(MAX_FPS, n_frames / MIN_SECONDS)
    each = max(10, int(round(100.0 / fps)) * 10)
    durations = [each] * n_frames
    durations[-1] += HOLD_LAST_MS
    return durations


def _check(recording: Recording) -> None:
    if recording.n_frames < 1:
        raise ValueError(
            "no animation frames were recorded; train with --animate "
            "(recording.make_recorders(..., frames=True))"
        )


class FrameDrawer:
    """One figure for all frames; ``draw(i)`` returns frame ``i`` as RGB of shape (384, 864, 3).

    Parameters
    ----------
    recording : Recording
        With ``frames``, ``frame_steps``, ``frame_loss`` and ``frame_accuracy``.
    X_train : ndarray of shape (n, 2)
    y_train : ndarray of shape (n,)
        Drawn as points (at most 1,500).
    true_labels : callable, optional
        Maps points of shape (m, 2) to class labels (to target values for a
        regression); its boundary (its contour lines) is drawn dashed.
    title : str, optional
        First line of the title.
    epochs : int, optional
        The planned number of epochs, for the loss axis and "epoch 3.2 of 50".
    regression : bool, default=False
        The frames are a regression's values (``y_train`` its targets): they
        are drawn as ``surface.plot_surface`` draws them, in a diverging map
        centred on the targets' mean with contour lines, and no accuracy is given.
    """

    def __init__(
        self,
        recording: Recording,
        X_train: np.ndarray,
        y_train: np.ndarray,
        *,
        true_labels: Callable | None = None,
        title: str | None = None,
        epochs: int | None = None,
        regression: bool = False,
    ):
        _check(recording)
        self.rec, self.epochs, self.regression = recording, epochs, regression
        self._LEARNED = "prediction" if regression else "learned boundary"
        res = self.res = recording.frames[0].shape[0]
        first = recording.frames[0]
        self.k = 1 if first.ndim == 2 else first.shape[2]
        self.binary = self.k == 1
        self.gx, self.gy = (a.reshape(res, res) for a in grid_points(recording.extent, res).T)

        fig = self.fig = new_figure(FIGSIZE)
        fig.set_dpi(DPI)
        ax, ax_loss = fig.subplots(1, 2, width_ratios=[1.15, 1])
        fig.get_layout_engine().set(wspace=0.08)
        P0 = first.reshape(res * res, self.k).astype(np.float64)
        if regression:
            y = np.asarray(y_train, dtype=np.float64).reshape(-1)
            last = recording.frames[recording.n_frames - 1]
            self.norm = surface.value_norm(float(y.mean()), y, last[np.isfinite(last)])
            label = f"predicted value (white: the targets' mean, {y.mean():.3g})"
            surface.draw_values(
                fig, ax, P0.reshape(res, res), recording.extent, self.norm, label=label
            )
        else:
            _, colors = plotting.draw_regions(
                fig, ax, np.nan_to_num(P0), (res, res), recording.extent
            )
        self.image = ax.images[0]
        # k classes: the white veil of uncertainty over the regions.
        self.veil = ax.images[1] if len(ax.images) > 1 else None
        # A diverged frame shows grey, not a misleading colour.
        self.image.set_cmap(self.image.cmap.with_extremes(bad="0.6"))
        lw = 1.1 if regression else 2.0
        handles = [Line2D([], [], color="black", linewidth=lw, label=self._LEARNED)]
        if true_labels is not None:
            # Drawn once, so on a finer grid than the frames: a smooth line.
            fine = grid_points(recording.extent, TRUTH_RESOLUTION)
            tx, ty = (a.reshape(TRUTH_RESOLUTION, TRUTH_RESOLUTION) for a in fine.T)
            truth = np.asarray(true_labels(fine), dtype=np.float64).reshape(tx.shape)
            if regression:
                surface.value_contours(ax, tx, ty, truth, self.norm, truth=True)
                handles.append(Line2D([], [], color="black", ls="--", label="true surface"))
            else:
                handles.append(plotting.draw_true_boundary(ax, tx, ty, truth, self.binary))
        if regression:
            surface.draw_targets(ax, np.asarray(X_train, dtype=np.float64), y, self.norm)
        else:
            plotting.draw_train(ax, np.asarray(X_train), np.asarray(y_train), colors)
        ax.set_xlim(recording.extent[0], recording.extent[1])
        ax.set_ylim(recording.extent[2], recording.extent[3])
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
        legend = ax.legend(handles=handles, loc="upper right", fontsize="x-small", framealpha=0.85)
        self.learned_label = legend.get_texts()[0]
        self.ax = ax

        self.x = recording.frame_epochs()
        loss = np.asarray(recording.frame_loss, dtype=np.float64)
        loss[~np.isfinite(loss)] = np.nan  # a gap, not a squashed axis
        self.loss = loss
        ax_loss.set_xlim(0, 1.03 * max(epochs or 0, self.x[-1], 1e-9))  # room for the dot
        top = np.nanmax(loss) if np.isfinite(loss).any() else 1.0
        ax_loss.set_ylim(0, 1.08 * top)
        ax_loss.set_xlabel("epoch")
        self.points = describe_points(recording.loss_points, recording.n_train)
        ax_loss.set_ylabel("training loss")
        ax_loss.grid(True, alpha=0.3)
        (self.line,) = ax_loss.plot([], [], color=LOSS_COLOR, linewidth=1.8)
        (self.dot,) = ax_loss.plot([], [], "o", color=DOT_COLOR, markersize=6, clip_on=False)
        self.dot.set_in_layout(False)  # unclipped, so it would count in the layout
        if title:
            fig.suptitle(title)
        scores = "loss" if regression else "loss and accuracy"
        fig.supxlabel(
            f"{scores} at each frame's weights on {self.points}\n({LOG_NOTE})",
            fontsize="x-small",
        )
        self.status = ax_loss.set_title("\n")
        self.contours: list = []
        # Blitting: axes, ticks, labels and colour bar are drawn once as the
        # background; a frame redraws only the artists marked animated.
        # Regions (and veil) under points and true boundary.
        self.layers = [self.image, *ax.images[1:], *ax.collections]
        self.overlays = [legend, *ax.spines.values(), self.line, self.dot, self.status]
        for artist in (*self.layers, *self.overlays):
            artist.set_animated(True)
        fig.canvas.draw()
        fig.set_layout_engine("none")  # the geometry is fixed from here on
        self.background = fig.canvas.copy_from_bbox(fig.bbox)

    def __len__(self) -> int:
        return self.rec.n_frames

    @staticmethod
    def _epoch_text(epoch: float) -> str:
        """``0.013``, ``0.52``, ``3.2``: within the first epoch frames are steps apart."""
        if epoch == 0 or epoch >= 1:
            return f"{epoch:.1f}"
        return f"{epoch:.2g}"

    def draw(self, i: int) -> np.ndarray:
        rec, res = self.rec, self.res
        P = rec.frames[i].reshape(res * res, self.k).astype(np.float64)
        if self.regression:
            return self._draw_values(i, P[:, 0].reshape(res, res))
        if self.veil is not None:
            self.veil.set_data(plotting.uncertainty_veil(P, (res, res)))
        if self.binary:
            field = P[:, 0].reshape(res, res)
        else:
            field = np.where(np.isfinite(P).all(axis=1), P.argmax(axis=1), np.nan)
            field = field.reshape(res, res)
        self.image.set_data(np.ma.masked_invalid(field))
        for cs in self.contours:
            cs.remove()
        finite = np.nan_to_num(field, nan=0.5 if self.binary else -1.0)
        self.contours = plotting.contour_edges(
            self.ax, self.gx, self.gy, finite, self.binary, linewidths=2.0, zorder=4
        )
        self.learned_label.set_text(self._LEARNED + ("" if self.contours else " (none in view)"))
        return self._finish(i, f" · accuracy {100 * rec.frame_accuracy[i]:.1f}%")

    def _draw_values(self, i: int, field: np.ndarray) -> np.ndarray:
        """Frame ``i`` of a regression: the value ``field`` and its contour lines."""
        self.image.set_data(np.ma.masked_invalid(field))
        for cs in self.contours:
            cs.remove()
        self.contours = surface.value_contours(self.ax, self.gx, self.gy, field, self.norm)
        self.learned_label.set_text(self._LEARNED + ("" if self.contours else " (no line in view)"))
        return self._finish(i, "")

    def _finish(self, i: int, score: str) -> np.ndarray:
        """The loss so far and the status of frame ``i``, then the frame as RGB."""
        rec = self.rec
        self.line.set_data(self.x[: i + 1], self.loss[: i + 1])
        self.dot.set_data(self.x[i : i + 1], self.loss[i : i + 1])
        of = f" of {self.epochs}" if self.epochs else ""
        self.status.set_text(
            f"epoch {self._epoch_text(self.x[i])}{of} · step {rec.frame_steps[i]:,}\n"
            f"loss {self.loss[i]:.4g}{score} (training)"
        )
        canvas = self.fig.canvas
        canvas.restore_region(self.background)
        for artist in sorted([*self.layers, *self.contours], key=lambda a: a.get_zorder()):
            self.fig.draw_artist(artist)
        for artist in self.overlays:
            self.fig.draw_artist(artist)
        return np.asarray(self.fig.canvas.buffer_rgba())[..., :3].copy()


def render_frames(recording: Recording, X_train, y_train, **options) -> Iterator[np.ndarray]:
    """Yield every frame as RGB (see ``FrameDrawer`` for the options)."""
    drawer = FrameDrawer(recording, X_train, y_train, **options)
    for i in range(len(drawer)):
        yield drawer.draw(i)


class _Quantizer:
    """Maps RGB frames to one fixed palette, each colour to its exact nearest entry.

    The palette comes from sample frames by median cut; the entry nearest to
    each key colour is then set to that colour exactly (median cut averages
    its boxes, which would turn the white background off-white and merge the
    few pixels of the loss line into a neighbouring shade).  One palette for
    every frame means no flicker; no dithering keeps flat areas small in LZW.
    Pillow's own palette mapping works on truncated colours, so the mapping is
    done here, through a lookup table filled as new colours appear.
    """

    def __init__(self, samples: list[np.ndarray]):
        from PIL import Image

        image = Image.fromarray(np.vstack(samples))
        image = image.quantize(PALETTE_SIZE, method=Image.Quantize.MEDIANCUT)
        entries = np.array(image.getpalette(), dtype=np.int64).reshape(-1, 3)[:PALETTE_SIZE]
        for color in _KEY_COLORS:
            rgb = np.round(np.array(mcolors.to_rgb(color)) * 255).astype(np.int64)
            entries[np.abs(entries - rgb).sum(axis=1).argmin()] = rgb
        self.entries = entries
        self.lut = np.full(1 << 24, 255, dtype=np.uint8)  # 255: not looked up yet

    def __call__(self, frame: np.ndarray):
        from PIL import Image

        rgb = frame.astype(np.int64)
        packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
        index = self.lut[packed]
        new = np.unique(packed[index == 255])
        if len(new):
            colors = np.stack([new >> 16, (new >> 8) & 255, new & 255], axis=1)
            dist = ((colors[:, None, :] - self.entries[None, :, :]) ** 2).sum(axis=2)
            self.lut[new] = dist.argmin(axis=1)
            index = self.lut[packed]
        image = Image.fromarray(index)  # mode "L"; putpalette makes it "P"
        image.putpalette(self.entries.astype(np.uint8).ravel().tolist())
        return image


def write_gif(path: str | os.PathLike, images: list, durations: list[int]) -> Path:
    """Write palette images (``PIL.Image``, mode "P") as a looping GIF, atomically."""
    if not images:
        raise ValueError("a GIF needs at least one frame")
    path = Path(path)
    with atomic_path(path) as tmp:
        images[0].save(
            tmp, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0
        )
    return path


def ffmpeg_exe() -> str | None:
    """Path of the ffmpeg binary imageio-ffmpeg would use (its own, else one on PATH), or None."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        return None


class Mp4Writer:
    """Writes RGB frames as an H.264 MP4 at 24 fps through ``imageio_ffmpeg.write_frames``.

    Each frame is repeated to last its duration.  Use as a context manager:
    ffmpeg writes a hidden temporary sibling of ``path``, which is renamed to
    ``path`` when the block succeeds and removed when it fails (an exception,
    Ctrl-C), so ``path`` never holds half a video.

    Parameters
    ----------
    path : str or os.PathLike
        The MP4 to write; its folder must exist.
    width, height : int
        Size of the frames in pixels.  H.264 in yuv420p needs even sizes, so
        an odd width or height gets one white column or row; frames of the
        animation (864 x 384) are written as they are.

    Raises
    ------
    RuntimeError
        If no ffmpeg is found (``ffmpeg_exe`` is None), or ffmpeg wrote no video.
    """

    def __init__(self, path: str | os.PathLike, width: int, height: int):
        if ffmpeg_exe() is None:
            raise RuntimeError("no ffmpeg found; install imageio-ffmpeg to write MP4")
        self.path = Path(path)
        self.width, self.height = int(width), int(height)
        self.size = (self.width + self.width % 2, self.height + self.height % 2)
        self.tmp: Path | None = None
        self._frames = None  # the write_frames generator, started by the first frame
        self.ms, self.written = 0, 0

    def _start(self):
        import imageio_ffmpeg

        frames = imageio_ffmpeg.write_frames(
            str(self.tmp),
            self.size,
            pix_fmt_in="rgb24",
            pix_fmt_out="yuv420p",
            fps=MP4_FPS,
            codec="libx264",
            quality=None,  # libx264's own default (CRF 23)
            macro_block_size=1,  # the size is even already: never rescale
            ffmpeg_log_level="error",
            output_params=["-movflags", "+faststart"],
        )
        frames.send(None)  # starts ffmpeg
        return frames

    def add(self, frame: np.ndarray, ms: int) -> None:
        """Append ``frame`` (RGB, uint8, ``height`` x ``width``) to show for ``ms`` milliseconds."""
        if self.tmp is None:
            raise RuntimeError("use Mp4Writer as a context manager: with Mp4Writer(...) as video")
        frame = np.asarray(frame, dtype=np.uint8)
        if frame.shape != (self.height, self.width, 3):
            raise ValueError(
                f"frames must have shape {(self.height, self.width, 3)}, got {frame.shape}"
            )
        pad_w, pad_h = self.size[0] - self.width, self.size[1] - self.height
        if pad_w or pad_h:
            frame = np.pad(frame, ((0, pad_h), (0, pad_w), (0, 0)), constant_values=255)
        # Repeats from the running total, so rounding never adds up: the video
        # lasts as long as the GIF.
        self.ms += ms
        due = max(self.written + 1, round(self.ms * MP4_FPS / 1000))
        data = np.ascontiguousarray(frame).tobytes()
        if self._frames is None:
            self._frames = self._start()
        for _ in range(due - self.written):
            self._frames.send(data)
        self.written = due

    def _check_written(self) -> None:
        """Read the finished file back: ffmpeg's exit status is not reported to us."""
        import imageio_ffmpeg

        failed = RuntimeError(f"ffmpeg did not write a complete {self.path.name}")
        if not self.tmp.is_file() or self.tmp.stat().st_size == 0:
            raise failed
        try:
            frames, _ = imageio_ffmpeg.count_frames_and_secs(str(self.tmp))
        except (RuntimeError, OSError):
            raise failed from None
        if frames != self.written:
            raise RuntimeError(
                f"ffmpeg wrote {frames} of the {self.written} frames of {self.path.name}"
            )

    def __enter__(self):
        self.tmp = temporary_sibling(self.path, ".mp4")
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if self._frames is not None:
                # ffmpeg finishes the file and exits, also after a failure: then
                # nothing writes to the temporary file once it is removed below.
                frames, self._frames = self._frames, None
                frames.close()
            if exc_type is None:
                if self.written == 0:
                    raise RuntimeError("an MP4 needs at least one frame")
                self._check_written()
                os.replace(self.tmp, self.path)
        finally:
            self.tmp.unlink(missing_ok=True)  # gone already after the rename
        return False


def write_animation(
    folder: str | os.PathLike,
    recording: Recording,
    X_train: np.ndarray,
    y_train: np.ndarray,
    *,
    true_labels: Callable | None = None,
    title: str | None = None,
    epochs: int | None = None,
    mp4: bool = True,
    regression: bool = False,
) -> list[str]:
    """Write ``learning.gif`` and, if ``mp4`` and an ffmpeg is found, ``learning.mp4``.

    Frames are drawn one at a time and kept only as palette images (one byte
    per pixel) for the GIF.  Returns the names of the files written.
    """
    folder = Path(folder)
    drawer = FrameDrawer(
        recording,
        X_train,
        y_train,
        true_labels=true_labels,
        title=title,
        epochs=epochs,
        regression=regression,
    )
    n = len(drawer)
    durations = frame_durations(n)
    to_palette = _Quantizer([drawer.draw(0), drawer.draw(n - 1)])
    h, w = drawer.draw(0).shape[:2]
    written = ["learning.gif"]
    with contextlib.ExitStack() as stack:
        video = None
        if mp4 and ffmpeg_exe() is not None:
            video = stack.enter_context(Mp4Writer(folder / "learning.mp4", w, h))
            written.append("learning.mp4")
        images = []
        for i in range(n):
            frame = drawer.draw(i)
            images.append(to_palette(frame))
            if video is not None:
                video.add(frame, durations[i])
    write_gif(folder / "learning.gif", images, durations)
    return written
