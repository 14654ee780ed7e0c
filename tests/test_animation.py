"""learning.gif and learning.mp4: one frame per recorded snapshot, the right size,
a duration of 5-15 s whatever the number of frames, and pictures that move."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
from PIL import Image

from backprop_lab import SGD, Dense, Sequential
from backprop_lab.pictures.animation import (
    DPI,
    FIGSIZE,
    ffmpeg_exe,
    frame_durations,
    render_frames,
    write_animation,
)
from backprop_lab.runs.recording import Recording, make_recorders

WIDTH, HEIGHT = int(FIGSIZE[0] * DPI), int(FIGSIZE[1] * DPI)


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
    assert len(frames) == rec.n_frames == 11  # 80 steps, every 8th: 0, 8, ..., 80
    assert durations == frame_durations(11)
    for frame in frames:
        assert frame.var() > 0.005  # not blank
        assert frame[0, 0].tolist() == [1.0, 1.0, 1.0]  # white background
    # The boundary and the loss curve change from the first frame to the last.
    assert np.abs(frames[0] - frames[-1]).mean() > 0.01
    assert [p.name for p in tmp_path.iterdir()] == ["learning.gif"]  # no temporary files


def test_frames_render_as_rgb_arrays(recorded):
    rec, X, y = recorded
    frames = list(render_frames(rec, X, y))
    assert len(frames) == rec.n_frames
    assert all(f.shape == (HEIGHT, WIDTH, 3) and f.dtype == np.uint8 for f in frames)


@pytest.mark.skipif(ffmpeg_exe() is None, reason="no ffmpeg (install imageio-ffmpeg)")
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
