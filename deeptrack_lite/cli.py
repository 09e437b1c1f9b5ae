"""Command line: ``python -m deeptrack_lite COMMAND ...`` (``--help`` on any command explains it)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import DeepTrackError


def _info(args) -> int:
    from .runtime import describe_environment
    from .trackers import describe_trackers

    for key, value in describe_environment().items():
        print(f"{key:>14}: {value}")
    print("\ntrackers:")
    for name, text in describe_trackers().items():
        print(f"  {name:<10} {text}")
    return 0


def _write_synthetic(args) -> int:
    from .data import synthetic_benchmark, write_dataset_otb

    dataset = synthetic_benchmark(n_frames=args.frames, names=args.sequences.split(",") if args.sequences else None)
    root = write_dataset_otb(dataset, args.out, progress=True)
    print(f"wrote {len(dataset)} sequences in OTB layout to {root}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m deeptrack_lite", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("info", help="versions, compute device and the registered trackers")
    p.set_defaults(func=_info)
    p = sub.add_parser("write-synthetic", help="write the synthetic benchmark in OTB layout (for other toolkits)")
    p.add_argument("--out", required=True, type=Path, help="folder to write the sequences into")
    p.add_argument("--frames", type=int, default=None, help="frames per sequence (default 150; 40 in fast mode)")
    p.add_argument("--sequences", default="", help="comma-separated subset of the benchmark's sequence names")
    p.set_defaults(func=_write_synthetic)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except DeepTrackError as exc:  # bad input: one clear line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
