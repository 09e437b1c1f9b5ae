"""Videos of tracking runs for lectures: boxes drawn on every frame, written in a format a browser plays.

OpenCV's pip wheels bundle FFmpeg without an H.264 encoder, so the ``.mp4`` they write is MPEG-4 Part 2
(``mp4v``), which Chromium, Firefox and Safari refuse to play (VLC and ffplay do). They do write VP8 in WebM, which
every browser plays, inline in JupyterLab and on a course web page: ``.webm`` is therefore the default.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..errors import OutputError
from ..fileio import make_folder

# suffix -> (OpenCV fourcc, what plays it)
VIDEO_FORMATS = {
    ".webm": ("VP80", "VP8 in WebM: plays in every browser and in JupyterLab"),
    ".mp4": ("mp4v", "MPEG-4 Part 2: browsers refuse it (OpenCV's wheels have no H.264 encoder); VLC plays it"),
    ".avi": ("MJPG", "Motion JPEG in AVI: large files; desktop players only"),
}
DEFAULT_SUFFIX = ".webm"


class VideoWriter:
    """Write RGB frames of one size to ``path``; the format follows the suffix (:data:`VIDEO_FORMATS`).

    A context manager: ``with VideoWriter(path, fps, (w, h)) as video: video.write(rgb)``. An unknown suffix, or a
    file OpenCV cannot open, is an :class:`~deeptrack_lite.errors.OutputError` before any frame is drawn.
    """

    def __init__(self, path, fps: float, size: tuple[int, int]):
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in VIDEO_FORMATS:
            raise OutputError(f"{self.path}: unknown video format {suffix or '(no suffix)'}; use one of "
                              + ", ".join(VIDEO_FORMATS) + f" ({DEFAULT_SUFFIX} plays in browsers)")
        self.fourcc, self.plays = VIDEO_FORMATS[suffix]
        make_folder(self.path.parent)
        self.size = (int(size[0]), int(size[1]))
        previous = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # FFmpeg's note on WebM's codec tags
        try:
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*self.fourcc), float(fps), self.size)
        finally:
            cv2.utils.logging.setLogLevel(previous)
        if not self._writer.isOpened():
            raise OutputError(f"{self.path}: OpenCV cannot write a {self.fourcc} video there")
        self.frames = 0

    def write(self, rgb: np.ndarray) -> None:
        if (rgb.shape[1], rgb.shape[0]) != self.size:
            raise OutputError(f"{self.path}: frame of {rgb.shape[1]}x{rgb.shape[0]} in a {self.size[0]}x{self.size[1]} video")
        self._writer.write(cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR))
        self.frames += 1

    def close(self) -> None:
        self._writer.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def video_codec(path) -> str:
    """The fourcc of a video file as OpenCV reads it back (``"VP80"``, ``"FMP4"``...): what a player must decode."""
    cap = cv2.VideoCapture(str(path))
    try:
        code = int(cap.get(cv2.CAP_PROP_FOURCC))
    finally:
        cap.release()
    return "".join(chr((code >> 8 * i) & 0xFF) for i in range(4))


__all__ = ["DEFAULT_SUFFIX", "VIDEO_FORMATS", "VideoWriter", "video_codec"]
