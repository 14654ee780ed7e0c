"""learning.gif and learning.mp4: one frame per recorded snapshot, the right size,
a duration of 5-15 s whatever the number of frames, and pictures that move."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
from PIL import Image

from backprop_lab import SGD, Dense, Sequential
from backprop_lab.pictures import animation
from backprop_lab.pictures.animation import (
    DPI,
    FIGSIZE,
    MP4_FPS,
    Mp4Writer,
    ffmpeg_exe,
    frame_durations,
    render_frames,
    write_animation,
)
from backprop_lab.runs.recording import Recording, frame_steps, make_recorders

WIDTH, HEIGHT = int(FIGSIZE[0] * DPI), int(FIGSIZE[1] * DPI)
needs_ffmpeg = pytest.mark.skipif(ffmpeg_exe() is None, reason="no ffmpeg (install imageio-ffmpeg)")


def circle(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    return X, (np.hypot(X[:, 0], X[:, 1]) < 0.5).astype(int)


def disc(X):
    return np.hypot(X[:, 0], X[:, 1]) < 0.5


@pytest.fixture(scope="module")
def recorded():
    X, y = circle(300)
    callbacks, rec = make_recorders(X, y, frames=True, max_frames=12, resolution=24)
    m = Sequential([Dense(8, "tanh", input_shape=(2,)), Dense(1, "sigmoid")], seed=0)
    m.compile(SGD(0.5), "binary_crossentropy", ["accuracy"], engine="numpy")
    m.fit(X, y, epochs=8, batch_size=32, verbose=0, callbacks=callbacks)
    return rec, X, y


def gif_frames(path):
    with Image.open(path) as im:
        frames, durations = [], []
        for i in range(im.n_frames):
            im.seek(i)
            frames.append(np.asarray(im.convert("RGB"), dtype=np.float64) / 255)
            durations.append(im.info["duration"])
        return im.size, frames, durations


@pytest.mark.parametrize("n", [1, 2, 7, 40, 72, 120])
def test_any_number_of_frames_plays_for_5_to_15_seconds(n):
    durations = frame_durations(n)
    assert len(durations) == n
    assert 5.0 <= sum(durations) / 1000 <= 15.0
    assert all(d % 10 == 0 and d >= 10 for d in durations)  # GIF counts centiseconds


def test_gif_has_one_frame_per_snapshot_of_the_expected_size_and_moves(recorded, tmp_path):
    rec, X, y = recorded
    options = dict(true_labels=disc, title="test", epochs=8, mp4=False)
    written = write_animation(tmp_path, rec, X, y, **options)
    assert written == ["learning.gif"]
    size, frames, durations = gif_frames(tmp_path / "learning.gif")
    assert size == (WIDTH, HEIGHT)
    assert len(frames) == rec.n_frames == len(frame_steps(80, 12))  # 80 steps, 12 frames at most
    assert durations == frame_durations(rec.n_frames)
    for frame in frames:
        assert frame.var() > 0.005  # not blank
        assert frame[0, 0].tolist() == [1.0, 1.0, 1.0]  # white background
    # The boundary and the loss curve change from the first frame to the last.
    assert np.abs(frames[0] - frames[-1]).mean() > 0.01
    assert [p.name for p in tmp_path.iterdir()] == ["learning.gif"]  # no temporary files


def test_the_frame_says_which_points_its_loss_is_on_and_that_it_is_not_the_log(recorded):
    rec, X, y = recorded
    drawer = animation.FrameDrawer(rec, X, y, epochs=8)
    texts = [t.get_text() for t in drawer.fig.texts]
    assert any("on all 300 training points" in t and animation.LOG_NOTE in t for t in texts)
    drawer.draw(rec.n_frames - 1)
    status = drawer.status.get_text()
    assert f"loss {rec.frame_loss[-1]:.4g}" in status  # the landscape's precision
    assert f"step {rec.frame_steps[-1]}" in status and "(training)" in status
    drawer.draw(1)  # one step in: a fraction of an epoch, not "0.0"
    assert drawer.status.get_text().startswith(f"epoch {1 / rec.steps_per_epoch:.2g} of 8")


def test_frames_render_as_rgb_arrays(recorded):
    rec, X, y = recorded
    frames = list(render_frames(rec, X, y))
    assert len(frames) == rec.n_frames
    assert all(f.shape == (HEIGHT, WIDTH, 3) and f.dtype == np.uint8 for f in frames)


def mp4_frames(path):
    """(width, height), number of frames and seconds of an MP4, as ffmpeg reads them."""
    import imageio_ffmpeg

    # Not read_frames: it leaves its pipes open once ffmpeg has exited.
    probe = subprocess.run([ffmpeg_exe(), "-i", path], capture_output=True, text=True)
    width, height = re.search(r"Video: h264\b.*?, (\d+)x(\d+)", probe.stderr).groups()
    n_frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    return (int(width), int(height)), n_frames, seconds


@needs_ffmpeg
def test_mp4_is_written_when_ffmpeg_is_available(recorded, tmp_path):
    rec, X, y = recorded
    written = write_animation(tmp_path, rec, X, y)
    assert written == ["learning.gif", "learning.mp4"]
    head = (tmp_path / "learning.mp4").read_bytes()[:12]
    assert head[4:8] == b"ftyp"  # an MP4 container
    probe = subprocess.run(
        [ffmpeg_exe(), "-i", tmp_path / "learning.mp4"], capture_output=True, text=True
    )
    h, m, sec = re.search(r"Duration: (\d+):(\d+):([\d.]+)", probe.stderr).groups()
    seconds = 3600 * int(h) + 60 * int(m) + float(sec)
    # As long as the GIF, to within a frame at 24 fps.
    assert seconds == pytest.approx(sum(frame_durations(rec.n_frames)) / 1000, abs=0.05)
    size, n_frames, _ = mp4_frames(tmp_path / "learning.mp4")
    assert size == (WIDTH, HEIGHT)
    assert n_frames == round(sum(frame_durations(rec.n_frames)) * MP4_FPS / 1000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["learning.gif", "learning.mp4"]


@needs_ffmpeg
def test_an_odd_frame_size_gets_one_white_row_and_column(tmp_path):
    frame = np.zeros((5, 7, 3), np.uint8)
    with Mp4Writer(tmp_path / "odd.mp4", 7, 5) as video:
        video.add(frame, 1000)
    size, n_frames, _ = mp4_frames(tmp_path / "odd.mp4")
    assert size == (8, 6) and n_frames == MP4_FPS


@needs_ffmpeg
@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_a_failure_mid_video_leaves_neither_video_nor_temporary_file(tmp_path, error):
    frame = np.full((HEIGHT, WIDTH, 3), 200, np.uint8)
    with pytest.raises(error, match="stop"):
        with Mp4Writer(tmp_path / "learning.mp4", WIDTH, HEIGHT) as video:
            video.add(frame, 500)
            raise error("stop")
    assert list(tmp_path.iterdir()) == []


FAILING_FFMPEG = """#!/bin/sh
# Writes a few bytes where the video should be, then fails, as a full disk would.
out=""; piped=no
for a; do [ "$a" = "-" ] && piped=yes; out="$a"; done
if [ "$piped" = yes ] && [ "$out" != "-" ]; then cat > /dev/null; printf 'half' > "$out"; fi
exit 1
"""


def test_an_ffmpeg_that_fails_leaves_no_video(tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "ffmpeg"
    fake.parent.mkdir()
    fake.write_text(FAILING_FFMPEG)
    fake.chmod(0o755)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(fake))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(RuntimeError, match="did not write a complete learning.mp4"):
        with Mp4Writer(out / "learning.mp4", WIDTH, HEIGHT) as video:
            video.add(np.full((HEIGHT, WIDTH, 3), 200, np.uint8), 500)
    assert list(out.iterdir()) == []


@needs_ffmpeg
def test_a_frame_of_the_wrong_size_is_refused_and_leaves_nothing(tmp_path):
    with pytest.raises(ValueError, match="shape"):
        with Mp4Writer(tmp_path / "learning.mp4", WIDTH, HEIGHT) as video:
            video.add(np.zeros((HEIGHT, WIDTH, 3), np.uint8), 500)
            video.add(np.zeros((10, 10, 3), np.uint8), 500)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_a_failure_while_drawing_leaves_no_animation(recorded, tmp_path, monkeypatch, error):
    rec, X, y = recorded
    draw, calls = animation.FrameDrawer.draw, []

    def failing(self, i):
        calls.append(i)
        if len(calls) == 6:  # three frames into the video
            raise error("stop")
        return draw(self, i)

    monkeypatch.setattr(animation.FrameDrawer, "draw", failing)
    with pytest.raises(error, match="stop"):
        write_animation(tmp_path, rec, X, y)
    assert list(tmp_path.iterdir()) == []


def test_without_ffmpeg_only_the_gif_is_written(recorded, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # not installed
    assert ffmpeg_exe() is None
    rec, X, y = recorded
    assert write_animation(tmp_path, rec, X, y) == ["learning.gif"]
    assert [p.name for p in tmp_path.iterdir()] == ["learning.gif"]
    with pytest.raises(RuntimeError, match="no ffmpeg"):
        Mp4Writer(tmp_path / "learning.mp4", WIDTH, HEIGHT)


def test_an_ffmpeg_that_cannot_be_found_is_no_ffmpeg(monkeypatch):
    import imageio_ffmpeg

    def missing():
        raise RuntimeError("No ffmpeg exe could be found.")

    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", missing)
    assert ffmpeg_exe() is None


def test_a_diverged_frame_is_drawn_grey_not_refused(tmp_path):
    rec = Recording(steps_per_epoch=1)
    good = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    rec.frames += [good, np.full((8, 8), np.nan, np.float32)]
    rec.frame_steps += [0, 1]
    rec.frame_loss += [0.7, float("inf")]
    rec.frame_accuracy += [0.5, 0.5]
    X, y = circle(20)
    write_animation(tmp_path, rec, X, y, mp4=False)
    _, frames, _ = gif_frames(tmp_path / "learning.gif")
    assert len(frames) == 2


def test_three_class_frames_show_the_arg_max_regions(tmp_path):
    rec = Recording(steps_per_epoch=1)
    rng = np.random.default_rng(0)
    for step in range(3):
        P = rng.dirichlet(np.ones(3), size=(10, 10)).astype(np.float32)
        rec.frames.append(P)
        rec.frame_steps.append(step)
        rec.frame_loss.append(1.0 - 0.1 * step)
        rec.frame_accuracy.append(0.4)
    X = rng.uniform(-1, 1, (30, 2))
    write_animation(tmp_path, rec, X, rng.integers(0, 3, 30), mp4=False)
    assert gif_frames(tmp_path / "learning.gif")[0] == (WIDTH, HEIGHT)


def test_no_frames_is_one_clear_error(tmp_path):
    X, y = circle(10)
    with pytest.raises(ValueError, match="no animation frames.*--animate"):
        write_animation(tmp_path, Recording(), X, y)
