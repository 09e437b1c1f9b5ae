"""``Sequence`` (frames read lazily, ground truth, attribute tags, frame rate) and ``Dataset``."""
from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence as SequenceABC

import cv2
import numpy as np

from ..errors import DataError, FrameError, NotFoundError
from ..images import as_rgb_image, imread_rgb

# OTB's attribute tags (Wu et al., TPAMI 2015), plus one of ours for same-looking distractors.
ATTRIBUTES: "OrderedDict[str, str]" = OrderedDict(
    [
        ("IV", "illumination variation"),
        ("SV", "scale variation"),
        ("OCC", "occlusion"),
        ("DEF", "deformation"),
        ("MB", "motion blur"),
        ("FM", "fast motion"),
        ("IPR", "in-plane rotation"),
        ("OPR", "out-of-plane rotation"),
        ("OV", "out of view"),
        ("BC", "background clutter"),
        ("LR", "low resolution"),
        ("DIS", "similar-looking distractors (not an OTB tag)"),
    ]
)


def normalize_attributes(tags: Iterable[str], *, source: str = "attributes") -> frozenset:
    """Upper-case OTB abbreviations; full names ("scale variation") are accepted too."""
    by_name = {v.split(" (")[0]: k for k, v in ATTRIBUTES.items()}
    out = set()
    for tag in tags:
        tag = str(tag).strip()
        if not tag:
            continue
        key = tag.upper() if tag.upper() in ATTRIBUTES else by_name.get(tag.lower())
        if key is None:
            raise DataError(f"{source}: unknown attribute tag {tag!r}; known tags: {', '.join(ATTRIBUTES)}")
        out.add(key)
    return frozenset(out)


class FrameSource:
    """Where a sequence's frames come from. Subclasses implement ``__len__`` and ``read(i)``."""

    def __len__(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def read(self, index: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self, index: int) -> str:
        return f"frame {index}"


class ImageFiles(FrameSource):
    """One image file per frame, decoded on demand."""

    def __init__(self, paths: SequenceABC):
        self.paths = [Path(p) for p in paths]

    def __len__(self) -> int:
        return len(self.paths)

    def read(self, index: int) -> np.ndarray:
        return imread_rgb(self.paths[index])

    def describe(self, index: int) -> str:
        return str(self.paths[index])


class ArrayFrames(FrameSource):
    """Frames held in memory (a list or an N x H x W x 3 array)."""

    def __init__(self, frames):
        self.frames = frames

    def __len__(self) -> int:
        return len(self.frames)

    def read(self, index: int) -> np.ndarray:
        return as_rgb_image(self.frames[index], what=f"frame {index}")


class RenderedFrames(FrameSource):
    """Frames computed by a function of the index (synthetic sequences), with a small cache."""

    def __init__(self, render: Callable[[int], np.ndarray], length: int, cache_size: int = 8):
        self.render, self.length, self.cache_size = render, int(length), cache_size
        self._cache: "OrderedDict[int, np.ndarray]" = OrderedDict()

    def __len__(self) -> int:
        return self.length

    def read(self, index: int) -> np.ndarray:
        if index in self._cache:
            self._cache.move_to_end(index)
            return self._cache[index]
        frame = self.render(index)
        self._cache[index] = frame
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return frame


class VideoFrames(FrameSource):
    """Frames of a video file, decoded sequentially when read in order (seeking only when needed)."""

    def __init__(self, path, length: int | None = None):
        self.path = Path(path)
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            raise FrameError(f"video file cannot be opened: {self.path}")
        if length is None:
            length = 0
            while capture.grab():  # frame counts in headers are unreliable: count by decoding
                length += 1
        capture.release()
        if length == 0:
            raise FrameError(f"video file has no frames: {self.path}")
        self.length = length
        self._capture = None
        self._next = 0

    def __len__(self) -> int:
        return self.length

    def read(self, index: int) -> np.ndarray:
        if self._capture is None or index != self._next:
            if self._capture is None:
                self._capture = cv2.VideoCapture(str(self.path))
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = self._capture.read()
        if not ok or frame is None:
            raise FrameError(f"{self.path}: frame {index} cannot be decoded")
        self._next = index + 1
        return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)

    def describe(self, index: int) -> str:
        return f"{self.path} frame {index}"

    def __getstate__(self):  # VideoCapture does not pickle
        state = dict(self.__dict__)
        state["_capture"], state["_next"] = None, 0
        return state


class SubsetFrames(FrameSource):
    """Some frames of another source, by index."""

    def __init__(self, parent: FrameSource, indices: SequenceABC):
        self.parent, self.indices = parent, list(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def read(self, index: int) -> np.ndarray:
        return self.parent.read(self.indices[index])

    def describe(self, index: int) -> str:
        return self.parent.describe(self.indices[index])


class CachedFrames(FrameSource):
    """Keeps every frame of another source in memory once read (for several passes over one sequence)."""

    def __init__(self, parent: FrameSource):
        self.parent = parent
        self._frames: dict = {}

    def __len__(self) -> int:
        return len(self.parent)

    def read(self, index: int) -> np.ndarray:
        if index not in self._frames:
            self._frames[index] = self.parent.read(index)
        return self._frames[index]

    def describe(self, index: int) -> str:
        return self.parent.describe(index)


class Sequence:
    """A single-object tracking sequence.

    - ``len(seq)`` frames, ``seq.frame(i)`` (also ``seq[i]``) -> H x W x 3 uint8 RGB, read lazily;
    - ``seq.ground_truth``: N x 4 float array of (x, y, w, h); a NaN row means the target is absent
      in that frame (``seq.target_visible`` is False there); frame 0 always has a box;
    - ``seq.name``, ``seq.attributes`` (a frozenset of tags from :data:`ATTRIBUTES`), ``seq.fps``,
      ``seq.path`` (where it was read from, if anywhere) and ``seq.meta`` (free-form details).
    """

    def __init__(self, name: str, frames: FrameSource, ground_truth, *, attributes: Iterable[str] = (),
                 fps: float = 30.0, path=None, meta: dict | None = None):
        gt = np.asarray(ground_truth, dtype=np.float64)
        if gt.ndim != 2 or gt.shape[1] != 4:
            raise DataError(f"sequence {name!r}: ground truth must be N x 4 (x, y, w, h), got shape {gt.shape}")
        if len(gt) != len(frames):
            raise DataError(f"sequence {name!r}: {len(gt)} ground-truth boxes for {len(frames)} frames")
        if len(gt) == 0:
            raise DataError(f"sequence {name!r} has no frames")
        if not np.all(np.isfinite(gt[0])) or gt[0, 2] <= 0 or gt[0, 3] <= 0:
            raise DataError(f"sequence {name!r}: frame 0 needs a valid box to initialise trackers, got {gt[0].tolist()}")
        self.name = str(name)
        self.frames = frames
        self.ground_truth = gt
        self.attributes = normalize_attributes(attributes, source=f"sequence {name!r}")
        self.fps = float(fps)
        self.path = Path(path) if path is not None else None
        self.meta = dict(meta or {})

    def __len__(self) -> int:
        return len(self.frames)

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` as H x W x 3 uint8 RGB (negative indices count from the end)."""
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"sequence {self.name!r} has {n} frames; frame {index} does not exist")
        return self.frames.read(index % n)

    __getitem__ = frame

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in range(len(self)):
            yield self.frame(i)

    @property
    def init_box(self) -> np.ndarray:
        """The box of frame 0, the one trackers are initialised with."""
        return self.ground_truth[0].copy()

    @property
    def target_visible(self) -> np.ndarray:
        """Boolean per frame: False where the annotation marks the target absent."""
        return np.all(np.isfinite(self.ground_truth), axis=1)

    @property
    def frame_size(self) -> tuple[int, int]:
        """(width, height) of frame 0."""
        h, w = self.frame(0).shape[:2]
        return w, h

    def subsequence(self, start: int = 0, stop: int | None = None, step: int = 1) -> "Sequence":
        """Frames ``start:stop:step`` as a new sequence (frame ``start`` must have a box)."""
        idx = list(range(len(self)))[start:stop:step]
        return Sequence(self.name, SubsetFrames(self.frames, idx), self.ground_truth[idx], attributes=self.attributes,
                        fps=self.fps / step, path=self.path, meta=dict(self.meta, subset=(start, stop, step),
                                  **({"polygons": [self.meta["polygons"][i] for i in idx]} if "polygons" in self.meta else {})))

    def cached(self, max_bytes: float = 512e6) -> "Sequence":
        """The same sequence keeping decoded frames in memory, if all of them fit in ``max_bytes``
        (else ``self``): several trackers can then run on it without decoding or rendering twice."""
        first = self.frame(0)
        if first.nbytes * len(self) > max_bytes or isinstance(self.frames, (CachedFrames, ArrayFrames)):
            return self
        clone = Sequence(self.name, CachedFrames(self.frames), self.ground_truth, attributes=self.attributes,
                         fps=self.fps, path=self.path, meta=self.meta)
        clone.frames._frames[0] = first
        return clone

    def __repr__(self) -> str:
        tags = ",".join(sorted(self.attributes)) or "-"
        return f"Sequence({self.name!r}, {len(self)} frames, attributes={tags})"


class Dataset:
    """An ordered collection of sequences, indexable by position or by name."""

    def __init__(self, name: str, sequences: Iterable[Sequence]):
        self.name = str(name)
        self.sequences = list(sequences)
        names = [s.name for s in self.sequences]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise DataError(f"dataset {name!r} has several sequences named {', '.join(duplicates)}")

    def __len__(self) -> int:
        return len(self.sequences)

    def __iter__(self) -> Iterator[Sequence]:
        return iter(self.sequences)

    def __getitem__(self, key) -> Sequence:
        if isinstance(key, str):
            for seq in self.sequences:
                if seq.name == key:
                    return seq
            raise NotFoundError(f"dataset {self.name!r} has no sequence {key!r}; it has {', '.join(self.names)}")
        return self.sequences[key]

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.sequences]

    def with_attribute(self, tag: str) -> list[Sequence]:
        """The sequences tagged with ``tag`` (an OTB abbreviation such as ``"OCC"``)."""
        (key,) = normalize_attributes([tag])
        return [s for s in self.sequences if key in s.attributes]

    def attribute_table(self) -> "OrderedDict[str, list[str]]":
        """For every known attribute, the names of the sequences that carry it."""
        return OrderedDict((tag, [s.name for s in self.with_attribute(tag)]) for tag in ATTRIBUTES)

    def subset(self, names: Iterable[str]) -> "Dataset":
        return Dataset(self.name, [self[n] for n in names])

    def __repr__(self) -> str:
        return f"Dataset({self.name!r}, {len(self)} sequences)"
