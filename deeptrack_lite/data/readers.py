"""Readers and writers for the common single-object tracking layouts.

- OTB:     ``<seq>/img/0001.jpg ...`` + ``groundtruth_rect.txt`` (comma, tab or space separated
           x,y,w,h); several targets as ``groundtruth_rect.1.txt``, ``groundtruth_rect.2.txt``.
- VOT:     ``<seq>/color/00000001.jpg ...`` (or the frames directly in ``<seq>``) + ``groundtruth.txt``
           with 4-value boxes or 8-value polygons (converted to their axis-aligned bounding box);
           per-frame ``*.tag`` files give attributes.
- GOT-10k: ``<seq>/00000001.jpg ...`` + ``groundtruth.txt`` + ``absence.label`` (1 = target absent).
- A video file plus a box file (one box per frame, any of the separators above).

Boxes are read as written, treated as 0-based pixel coordinates (as pytracking and got10k do).
An optional ``attributes.txt`` beside the annotation lists OTB tags (``IV, SV, OCC``...).
"""
from __future__ import annotations

import os
import re
import tempfile
import shutil
from pathlib import Path

import numpy as np

from ..boxes import polygon_to_box
from ..errors import AnnotationError, DataError, FrameError
from ..fileio import make_folder, ordinary_permissions
from ..images import IMAGE_SUFFIXES, imwrite_rgb
from .sequence import Dataset, ImageFiles, Sequence, VideoFrames, normalize_attributes

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")

# OTB sequences whose annotation covers only part of the image folder (first and last frame, 1-based),
# from the OTB toolkit's sequence configuration.
OTB_FRAME_RANGES = {
    "David": (300, 770), "Football1": (1, 74), "Freeman3": (1, 460), "Freeman4": (1, 283),
    "Diving": (1, 215), "Tiger1": (6, 354), "BlurCar1": (247, 988), "BlurCar3": (3, 359),
    "BlurCar4": (18, 397),
}

# VOT per-frame tags that correspond to OTB attributes.
VOT_TAGS = {"illum_change": "IV", "size_change": "SV", "occlusion": "OCC", "motion_change": "FM"}

_SPLIT = re.compile(r"[,\s;]+")
# One separator between two values: a comma or semicolon (with spaces around it), or spaces/tabs alone.
# Two commas in a row leave an empty field, which is an error, not a separator to merge.
_FIELD_SEP = re.compile(r"\s*[,;]\s*|\s+")


def _fields(line: str, where: str) -> list[str]:
    fields = _FIELD_SEP.split(line.strip())
    if any(f == "" for f in fields):
        raise AnnotationError(f"{where}: an empty value between two separators in {line.strip()!r}")
    return fields


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (UnicodeDecodeError, OSError) as exc:
        raise AnnotationError(f"{path}: cannot be read as a text {what} ({exc.__class__.__name__})") from None


def read_polygons(path) -> list | None:
    """The polygons of a VOT-style annotation, one per line (8 numbers as a 4 x 2 array; None on a line that
    holds a box or marks the target absent), or None when the file has no polygon at all. :func:`read_boxes`
    reduces polygons to their bounding boxes; VOT's overlap is taken with the polygons themselves."""
    out, found = [], False
    for line in _read_text(Path(path), "box file").splitlines():
        if not line.strip():
            continue
        try:  # the separators read_boxes takes: commas, semicolons, tabs or spaces
            values = np.array([float(f) for f in _FIELD_SEP.split(line.strip())])
        except ValueError:
            values = np.zeros(0)
        if len(values) == 8 and np.all(np.isfinite(values)) and np.any(values != 0):
            out.append(values.reshape(4, 2))
            found = True
        else:
            out.append(None)
    return out if found else None


def read_boxes(path, *, allow_polygons: bool = True, allow_absent: bool = True, raw: bool = False) -> np.ndarray:
    """Parse a box file into an N x 4 float array of (x, y, w, h).

    Each non-blank line holds 4 numbers (a box) or, if ``allow_polygons``, 8 numbers (a polygon,
    turned into its axis-aligned bounding box), separated by commas, tabs or spaces. A line of NaNs
    or of zeros marks the target absent in that frame (a NaN row in the result). Anything else
    malformed raises :class:`AnnotationError` naming the file and the line.

    ``raw=True`` reads a tracker's *results* instead: boxes are kept exactly as written (zero sizes,
    NaN for a lost target), only the shape of each line is checked.
    """
    path = Path(path)
    if not path.is_file():
        raise AnnotationError(f"annotation file is missing: {path}")
    lines = _read_text(path, "box file").splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise AnnotationError(f"{path}: the annotation file is empty")
    boxes = np.full((len(lines), 4), np.nan)
    for lineno, line in enumerate(lines, start=1):
        where = f"{path}, line {lineno}"
        if not line.strip():
            raise AnnotationError(f"{where}: blank line inside the annotation")
        fields = _fields(line, where)
        try:
            values = np.array([float(f) for f in fields])
        except ValueError:
            raise AnnotationError(f"{where}: cannot read {line.strip()!r} as numbers") from None
        if len(values) == 8 and allow_polygons:
            if np.all(np.isnan(values)):
                values = np.full(4, np.nan)
            elif np.any(~np.isfinite(values)):
                raise AnnotationError(f"{where}: polygon has a NaN or infinite value: {line.strip()!r}")
            else:
                values = polygon_to_box(values)
        elif len(values) != 4:
            expected = "4 values (x,y,w,h) or 8 (a polygon)" if allow_polygons else "4 values (x,y,w,h)"
            raise AnnotationError(f"{where}: expected {expected}, found {len(values)}: {line.strip()!r}")
        if raw:
            boxes[lineno - 1] = values
            continue
        absent = np.all(np.isnan(values)) or np.all(values == 0)
        if absent:
            if not allow_absent or lineno == 1:
                raise AnnotationError(f"{where}: the first frame must have a box, found {line.strip()!r}")
            continue
        if np.any(~np.isfinite(values)):
            raise AnnotationError(f"{where}: NaN or infinite value in {line.strip()!r} (a whole line of NaN marks an absent target)")
        if values[2] <= 0 or values[3] <= 0:
            raise AnnotationError(f"{where}: width and height must be positive, got w={values[2]:g}, h={values[3]:g}")
        boxes[lineno - 1] = values
    return boxes


def _image_files(folder: Path) -> list[Path]:
    return sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
                  key=lambda p: (len(p.stem), p.stem))


def _check_numbering(files: list[Path], folder: Path) -> None:
    """One file per frame, and numbered frames contiguous: a gap means frames are missing."""
    stems = [p.stem for p in files]
    twice = sorted({s for s in stems if stems.count(s) > 1})
    if twice:
        shown = ", ".join(sorted(p.name for p in files if p.stem in twice[:3]))
        raise FrameError(f"{folder}: {len(twice)} frame(s) exist in two files ({shown}"
                         + (" ..." if len(twice) > 3 else "") + "); keep one file per frame")
    numbers = [int(p.stem) for p in files if p.stem.isdigit()]
    if len(numbers) != len(files) or not numbers:
        return
    expected = set(range(numbers[0], numbers[0] + len(numbers)))
    missing = sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))
    if missing or set(numbers) != expected:
        shown = ", ".join(str(m) for m in missing[:10]) + (" ..." if len(missing) > 10 else "")
        raise FrameError(f"{folder}: frames are missing from the numbering: {shown}")


def _read_attributes(folder: Path, extra=None) -> frozenset:
    tags: set = set(normalize_attributes(extra or [], source=str(folder)))
    tag_file = folder / "attributes.txt"
    if tag_file.is_file():
        tags |= normalize_attributes(_SPLIT.split(_read_text(tag_file, "tag file")), source=str(tag_file))
    for vot_tag, otb_tag in VOT_TAGS.items():
        f = folder / f"{vot_tag}.tag"
        if not f.is_file():
            f = folder / f"{vot_tag}.label"
        if f.is_file() and any(line.strip() not in ("", "0") for line in _read_text(f, "tag file").splitlines()):
            tags.add(otb_tag)
    return frozenset(tags)


def _match_frames(name: str, files: list[Path], boxes: np.ndarray, annotation: Path, folder: Path):
    """Pair frames with boxes, applying OTB's known partial annotations; explain any mismatch."""
    if len(files) == len(boxes):
        return files
    base = name.split(".")[0].split("-")[0]
    if base in OTB_FRAME_RANGES:
        first, last = OTB_FRAME_RANGES[base]
        if last - first + 1 == len(boxes) and len(files) >= last:
            return files[first - 1:last]
    if len(boxes) < len(files):
        raise AnnotationError(f"{annotation}: short annotation: {len(boxes)} boxes for the {len(files)} frames in {folder}")
    raise FrameError(f"{folder}: frames are missing: {len(files)} frames but {annotation.name} has {len(boxes)} boxes")


def _sequence_from_folder(frames_dir: Path, annotation: Path, name: str, folder: Path, layout: str,
                          attributes=None, fps: float = 30.0) -> Sequence:
    if not frames_dir.is_dir():
        raise FrameError(f"{folder}: frame folder {frames_dir.name}/ is missing")
    files = _image_files(frames_dir)
    if not files:
        raise FrameError(f"{frames_dir}: no frames found (looked for {', '.join(IMAGE_SUFFIXES)})")
    _check_numbering(files, frames_dir)
    boxes = read_boxes(annotation)
    if layout == "got10k":
        absence = folder / "absence.label"
        test_split = len(boxes) == 1 and len(files) > 1  # GOT-10k's test split: only the first frame is given
        if test_split:
            boxes = np.vstack([boxes, np.full((len(files) - 1, 4), np.nan)])
        if absence.is_file():
            flags = [line.strip() for line in _read_text(absence, "absence label").splitlines() if line.strip()]
            if test_split and "0" in flags[1:]:
                raise AnnotationError(f"{annotation}: one box for {len(files)} frames, but {absence.name} says the "
                                      "target is present after the first: the annotation is cut short (a test-split "
                                      "sequence has only its first box and no absence.label)")
            if len(flags) != len(boxes):
                raise AnnotationError(f"{absence}: {len(flags)} flags for the {len(boxes)} boxes of {annotation.name}; "
                                      "one 0/1 line per frame is needed")
            bad = sorted(set(flags) - {"0", "1"})
            if bad:
                raise AnnotationError(f"{absence}: flags must be 0 (present) or 1 (absent), found {bad[:3]}")
            first = boxes[0].copy()
            boxes[np.array(flags) == "1"] = np.nan
            boxes[0] = first  # the first frame always initialises
    files = _match_frames(name, files, boxes, annotation, frames_dir)
    meta = {"layout": layout, "annotation": str(annotation)}
    polygons = read_polygons(annotation) if layout == "vot" else None
    if polygons is not None and len(polygons) == len(boxes):
        meta["polygons"] = polygons  # VOT's rotated boxes, for evaluation.vot's overlaps
    return Sequence(name, ImageFiles(files), boxes, attributes=_read_attributes(folder, attributes),
                    fps=fps, path=folder, meta=meta)


def detect_layout(path) -> str:
    """``"otb"``, ``"vot"``, ``"got10k"`` or ``"video"`` for a sequence path; :class:`DataError` if none."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES:
        return "video"
    if not path.is_dir():
        raise DataError(f"no sequence at {path}: not a folder or a video file")
    if (path / "img").is_dir() or list(path.glob("groundtruth_rect*.txt")):
        return "otb"
    if (path / "groundtruth.txt").is_file():
        if (path / "absence.label").is_file() or (path / "meta_info.ini").is_file():
            return "got10k"
        return "vot"
    if not any(path.iterdir()):
        raise DataError(f"{path} is an empty folder, not a sequence")
    raise DataError(f"{path} is not a sequence folder: expected img/ + groundtruth_rect.txt (OTB) "
                    "or frames + groundtruth.txt (VOT, GOT-10k)")


def load_sequence(path, *, annotation=None, name: str | None = None, attributes=None, fps: float = 30.0) -> Sequence:
    """Load one sequence from an OTB, VOT or GOT-10k folder, or a video file plus a box file.

    ``annotation`` chooses the box file (needed for OTB folders with several targets, and for videos
    whose box file is not ``<video stem>.txt``); ``attributes`` adds tags to those found on disk.
    """
    path = Path(path)
    layout = detect_layout(path)
    if layout == "video":
        ann = Path(annotation) if annotation else path.with_suffix(".txt")
        boxes = read_boxes(ann)
        frames = VideoFrames(path)
        if len(frames) != len(boxes):
            kind = "short annotation" if len(boxes) < len(frames) else "frames are missing"
            raise AnnotationError(f"{ann}: {kind}: {len(boxes)} boxes for {len(frames)} video frames in {path}")
        return Sequence(name or path.stem, frames, boxes, attributes=normalize_attributes(attributes or []),
                        fps=fps, path=path, meta={"layout": "video", "annotation": str(ann)})
    if layout == "otb":
        if annotation is None:
            candidates = sorted(path.glob("groundtruth_rect*.txt"))
            if not candidates:
                raise AnnotationError(f"{path}: groundtruth_rect.txt is missing")
            if len(candidates) > 1:
                raise DataError(f"{path} has {len(candidates)} targets ({', '.join(c.name for c in candidates)}); "
                                "pass annotation=... to choose one (load_dataset loads each)")
            annotation = candidates[0]
        return _sequence_from_folder(path / "img", Path(annotation), name or path.name, path, "otb", attributes, fps)
    frames_dir = path / "color" if (path / "color").is_dir() else path
    return _sequence_from_folder(frames_dir, Path(annotation or path / "groundtruth.txt"), name or path.name,
                                 path, layout, attributes, fps)


def _list_file(root: Path) -> list[str] | None:
    lst = root / "list.txt"
    if lst.is_file():
        return [line.strip() for line in lst.read_text().splitlines() if line.strip()]
    return None


def read_attribute_file(path) -> dict:
    """Parse a dataset tag file: one ``Sequence: IV, SV, OCC`` line per sequence (``#`` starts a comment)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"attribute file is missing: {path}")
    tags = {}
    for lineno, line in enumerate(_read_text(path, "tag file").splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, rest = line.partition(":")
        if not sep or not name.strip():
            raise AnnotationError(f"{path}, line {lineno}: expected 'Sequence: TAG, TAG', got {line!r}")
        tags[name.strip()] = normalize_attributes(_SPLIT.split(rest), source=f"{path}, line {lineno}")
    return tags


def load_dataset(root, *, name: str | None = None, skip_broken: bool = False, attributes_file=None) -> Dataset:
    """Load every sequence under ``root`` (or ``root`` itself if it is one sequence).

    Sub-folders follow ``list.txt`` when present (VOT, GOT-10k), else sorted order; OTB folders with
    several targets give one sequence per target (``Jogging.1``, ``Jogging.2``). A broken sequence
    raises :class:`DataError` naming it, unless ``skip_broken`` (then it is reported in
    ``dataset.skipped``). Attribute tags come from each sequence's own files and from a dataset tag
    file (``attributes_file``, by default ``<root>/attributes.txt`` when present; see
    :func:`read_attribute_file`); a multi-target sequence ``Jogging.1`` also takes ``Jogging``'s tags.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"no dataset folder at {root}")
    try:
        detect_layout(root)
        return Dataset(name or root.name, [load_sequence(root)])
    except DataError:
        pass
    listed = _list_file(root)
    folders = [root / n for n in listed] if listed else sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    sequences, skipped = [], {}
    for folder in folders:
        try:
            targets = sorted(folder.glob("groundtruth_rect.*.txt")) if folder.is_dir() else []
            if len(targets) > 1:
                for ann in targets:
                    tag = ann.name[len("groundtruth_rect."):-len(".txt")]
                    sequences.append(load_sequence(folder, annotation=ann, name=f"{folder.name}.{tag}"))
            else:
                sequences.append(load_sequence(folder))
        except DataError as exc:
            if not skip_broken:
                raise type(exc)(f"sequence {folder.name!r} of dataset {root}: {exc}") from exc
            skipped[folder.name] = str(exc)
    if not sequences:
        raise DataError(f"{root}: no sequences found" + (f" ({len(skipped)} skipped as broken)" if skipped else ""))
    tag_file = Path(attributes_file) if attributes_file else root / "attributes.txt"
    if attributes_file or tag_file.is_file():
        table = read_attribute_file(tag_file)
        for seq in sequences:
            seq.attributes = seq.attributes | table.get(seq.name, table.get(seq.name.split(".")[0], frozenset()))
    dataset = Dataset(name or root.name, sequences)
    dataset.skipped = skipped
    return dataset


def write_otb(sequence: Sequence, folder, *, image_format: str = "jpg", quality: int = 95, progress: bool = False) -> Path:
    """Write a sequence in OTB layout (``img/0001.jpg``..., ``groundtruth_rect.txt``, ``attributes.txt``).

    The folder is written under a temporary name and renamed at the end, so an interrupted write never
    leaves a half sequence that looks complete. Returns the folder.
    """
    folder = Path(folder)
    make_folder(folder.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        (tmp / "img").mkdir()
        indices = range(len(sequence))
        if progress:
            from tqdm.auto import tqdm
            indices = tqdm(indices, desc=f"writing {sequence.name}", leave=False)
        for i in indices:
            imwrite_rgb(tmp / "img" / f"{i + 1:04d}.{image_format}", sequence.frame(i), quality=quality)
        lines = ["NaN,NaN,NaN,NaN" if not np.all(np.isfinite(b)) else ",".join(f"{v:.2f}" for v in b)
                 for b in sequence.ground_truth]
        (tmp / "groundtruth_rect.txt").write_text("\n".join(lines) + "\n")
        (tmp / "attributes.txt").write_text(", ".join(sorted(sequence.attributes)) + "\n")
        ordinary_permissions(tmp, directory=True)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def write_dataset_otb(dataset: Dataset, root, **kwargs) -> Path:
    """Write every sequence of a dataset in OTB layout under ``root``, plus a ``list.txt``."""
    root = Path(root)
    make_folder(root)
    for seq in dataset:
        write_otb(seq, root / seq.name, **kwargs)
    (root / "list.txt").write_text("\n".join(dataset.names) + "\n")
    return root
