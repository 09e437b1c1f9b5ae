"""One way to name a dataset, for the command line, the notebooks and the course's commands alike.

- ``synthetic``: the synthetic benchmark; ``synthetic:NAME,NAME`` picks some of its sequences;
- ``synthetic-longterm``: the sequences where the target leaves the view;
- a folder of sequences in any layout :func:`~deeptrack_lite.data.load_dataset` reads (OTB, VOT, GOT-10k), one
  sequence folder, or a video file.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from .readers import load_dataset, load_sequence
from .sequence import Dataset
from .synthetic import long_term_benchmark, synthetic_benchmark


def _names(sequences) -> list[str] | None:
    if sequences is None:
        return None
    items = sequences.split(",") if isinstance(sequences, str) else list(sequences)
    names = [str(n).strip() for n in items if str(n).strip()]
    return names or None


def resolve_dataset(spec, frames: int | None = None, sequences=None, *, attributes_file=None,
                    variant: int = 0) -> Dataset:
    """The dataset ``spec`` names (see the module's docstring). ``frames``: the synthetic sequences' length, or
    the first N frames of each real one; ``sequences``: names to keep (``"a,b"`` or a list); ``variant``: another
    draw of the synthetic scenes; ``attributes_file``: per-sequence attributes of a folder without its own."""
    if spec is None or not str(spec).strip():
        raise DataError("name a dataset: synthetic, synthetic:NAME,NAME, synthetic-longterm, a folder of sequences, "
                        "one sequence folder or a video file")
    spec = str(spec).strip()
    names = _names(sequences)
    if spec == "synthetic-longterm":
        dataset = long_term_benchmark(n_frames=frames, variant=variant)
        return dataset.subset(names) if names else dataset
    if spec == "synthetic" or spec.startswith("synthetic:"):
        names = names or _names(spec.partition(":")[2])
        return synthetic_benchmark(n_frames=frames, names=names, variant=variant)
    path = Path(spec)
    dataset = (Dataset(path.stem, [load_sequence(path)]) if path.is_file()
               else load_dataset(path, attributes_file=attributes_file))
    if names:
        dataset = dataset.subset(names)
    if frames:
        dataset = Dataset(dataset.name, [s.subsequence(0, frames) for s in dataset])
    return dataset


__all__ = ["resolve_dataset"]
