"""Sequences and datasets: readers for OTB, VOT, GOT-10k and videos, the synthetic benchmark, downloads."""
from .sequence import ATTRIBUTES, ArrayFrames, Dataset, FrameSource, ImageFiles, RenderedFrames, Sequence, VideoFrames
from .readers import (detect_layout, load_dataset, load_sequence, read_attribute_file, read_boxes, write_dataset_otb,
                      write_otb)
from .synthetic import (BENCHMARK, LONG_TERM, SyntheticConfig, SyntheticSequence, benchmark_frames,
                        long_term_benchmark, synthetic_benchmark, synthetic_sequence, target_patch)
from .resolve import resolve_dataset
from .download import OTB_BASE_URL, default_data_dir, download, download_otb, extract_archive, sha256_of

__all__ = [
    "ATTRIBUTES", "ArrayFrames", "BENCHMARK", "Dataset", "LONG_TERM", "FrameSource", "ImageFiles", "OTB_BASE_URL",
    "RenderedFrames", "Sequence", "SyntheticConfig", "SyntheticSequence", "VideoFrames", "benchmark_frames",
    "default_data_dir", "detect_layout", "download", "download_otb", "extract_archive", "load_dataset", "load_sequence",
    "long_term_benchmark", "read_attribute_file", "read_boxes", "resolve_dataset", "sha256_of", "synthetic_benchmark", "synthetic_sequence", "target_patch",
    "write_dataset_otb", "write_otb",
]
