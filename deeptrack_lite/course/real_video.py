"""The survey's trackers on real video that none of them was trained or tuned on, shipped for notebook 06.

The course trains its deep trackers on synthetic scenes and measures them mostly on the synthetic benchmark, which
the same generator makes. This record holds the same trackers on public real sequences (OTB, TLP), one pass
each with seed 0: per sequence the success AUC, the precision at 20 px and the FPS, and each tracker's code
fingerprint, so that a test says when a tracker has changed since the record was made. The images are not shipped
(they belong to their benchmarks); the sequences' names say where to get them. Made by::

    python -m deeptrack_lite.course.real_video --dataset /path/to/sequences \\
        --sequences Panda,TinyTLP_CarChase2,TinyTLP_MotorcycleChase --out deeptrack_lite/course/results

``--tuned-on`` names the sequences the trackers' settings were chosen on; the record keeps the list, and the
command refuses to measure on them.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from ..errors import DataError, DeepTrackError
from ..evaluation.metrics import precision_at, success_auc
from ..evaluation.ope import run_ope
from ..fileio import WEIGHTS_DIR, atomic_write_bytes, make_folder
from ..cli import DEVICE_HELP
from ..fingerprint import code_fingerprint
from ..trackers.base import tracker_class
from ..version import command_line, provenance

SHIPPED = Path(__file__).resolve().parent / "results" / "real-video.json"
#: The survey's trackers, the ones of where the field went next, and the two OpenCV baselines the issue's
#: targets are stated against.
TRACKERS = ("mdnet", "fcnt", "sodlt", "dlt", "dbn", "siamfc", "hcf", "recurrent", "kcf", "csrt")


#: The shipped weight file each tracker trained off-line loads (the others use ImageNet's backbone or nothing).
OFFLINE_WEIGHTS = {"mdnet": "mdnet", "siamfc": "siamfc", "recurrent": "recurrent", "sodlt": "sodlt", "dlt": "sdae",
                   "dbn": "dbn"}


def training_data(tracker: str) -> str | None:
    """What the tracker's off-line network was trained on, from its weight file's provenance (None: no such
    network of its own)."""
    name = OFFLINE_WEIGHTS.get(tracker)
    if name is None:
        return None
    try:
        return str(json.loads((WEIGHTS_DIR / f"{name}.json").read_text())["data"])
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"{name}.json: no readable training data in the weights' provenance ({exc})") from None


def trained_on_synthetic_scenes(tracker: str) -> bool:
    """True when the tracker's off-line network learned from the synthetic benchmark's scenarios (other draws of
    the same generator than the benchmark's sequences)."""
    return "synthetic benchmark" in (training_data(tracker) or "")


def compare(synthetic: dict, record: dict) -> dict:
    """Synthetic against real: ``synthetic`` {tracker: success AUC}, the record's real AUCs; returns
    {"rows": [(tracker, synthetic AUC, its rank, real AUC, its rank, trained on the generator's scenes)],
    "spearman": rank correlation, "rank_change": {group: mean of real rank minus synthetic rank}} over the
    trackers both have (a positive change: the group ranks lower on real video)."""
    real = {t: r["success_auc"] for t, r in record["trackers"].items()}
    common = [t for t in real if t in synthetic]
    if len(common) < 3:
        raise DataError(f"only {len(common)} trackers in both tables; a rank comparison needs at least 3")
    rs, rr = ranks({t: synthetic[t] for t in common}), ranks({t: real[t] for t in common})
    rows = sorted(((t, synthetic[t], rs[t], real[t], rr[t], trained_on_synthetic_scenes(t)) for t in common),
                  key=lambda row: row[4])
    groups = {"trained on the generator's scenes": [r for r in rows if r[5]], "not": [r for r in rows if not r[5]]}
    change = {g: float(np.mean([r[4] - r[2] for r in members])) for g, members in groups.items() if members}
    return {"rows": rows, "spearman": spearman({t: synthetic[t] for t in common}, {t: real[t] for t in common}),
            "rank_change": change}


def tracker_code(name: str) -> str:
    """The code fingerprint of a registered tracker, as stored results record it."""
    return code_fingerprint(tracker_class(name).__module__)


def measure(dataset, work_dir, trackers=TRACKERS, *, device="auto", progress: bool = True) -> dict:
    """Run (or resume, from ``work_dir``) every tracker once on every sequence of ``dataset`` and return
    ``{tracker: {"code", "success_auc", "precision_20px", "fps", "sequences": {name: {...}}}}``, the dataset
    scores averaged over sequences as OTB averages them. A failed run is an error: the record is complete."""
    report = run_ope(list(trackers), dataset, work_dir, device=device, progress=progress)
    report.require_complete("the real-video record", DeepTrackError)  # the record is complete or not written
    out = {}
    for row in report.summary():
        name = row["tracker"]
        sequences = {}
        for s in report.sequence_scores(name):
            sequences[s.sequence] = {"success_auc": success_auc(s.success), "precision_20px": precision_at(s.precision, 20),
                                     "fps": s.frames / s.total_time if s.total_time else None, "frames": s.frames}
        out[name] = {"code": tracker_code(name), "success_auc": row["success_auc"],
                     "precision_20px": row["precision_20px"], "fps": row["fps"], "device": row["device"],
                     "sequences": sequences}
    return out


def write_record(path, runs: dict, *, dataset, tuned_on, command: str) -> Path:
    """Write the record: the runs, the sequences (names and frame counts), the sequences the trackers were
    tuned on, and its provenance."""
    record = {"sequences": {s.name: len(s) for s in dataset}, "tuned_on": sorted(tuned_on), "trackers": runs,
              "provenance": provenance(command)}
    path = Path(path)
    make_folder(path.parent)
    atomic_write_bytes(path, (json.dumps(record, indent=1) + "\n").encode())
    return path


def load_record(path=SHIPPED) -> dict:
    """The shipped record (or the one at ``path``)."""
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a real-video record ({exc})") from None
    if not isinstance(record, dict) or not isinstance(record.get("trackers"), dict):
        raise DataError(f"{path}: not a real-video record (no 'trackers' table)")
    return record


def stale_trackers(record: dict) -> dict:
    """{tracker: why} for every tracker whose code has changed since the record was made (empty: current)."""
    out = {}
    for name, run in record["trackers"].items():
        try:
            now = tracker_code(name)
        except DeepTrackError as exc:
            out[name] = str(exc)
            continue
        if run.get("code") != now:
            out[name] = f"its code fingerprint is {now}, the record's {run.get('code')}"
    return out


def ranks(values: dict) -> dict:
    """{key: rank} with 1 for the largest value (ties share the better rank)."""
    ordered = sorted(values.values(), reverse=True)
    return {k: ordered.index(v) + 1 for k, v in values.items()}


def spearman(a: dict, b: dict) -> float:
    """Spearman's rank correlation of two {key: value} tables over their common keys."""
    keys = sorted(set(a) & set(b))
    ra, rb = ranks({k: a[k] for k in keys}), ranks({k: b[k] for k in keys})
    x, y = np.array([ra[k] for k in keys], float), np.array([rb[k] for k in keys], float)
    x, y = x - x.mean(), y - y.mean()
    return float(x @ y / np.sqrt((x @ x) * (y @ y)))


def main(argv=None) -> int:
    """``python -m deeptrack_lite.course.real_video``: measure the trackers on real sequences, write the record."""
    import argparse

    from ..data import default_data_dir, load_dataset

    parser = argparse.ArgumentParser(prog="python -m deeptrack_lite.course.real_video",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True, type=Path, help="a folder of OTB-layout sequences")
    parser.add_argument("--sequences", required=True, help="comma-separated names of the sequences to measure on")
    parser.add_argument("--tuned-on", default="", help="comma-separated names of the sequences the trackers' "
                        "settings were chosen on (recorded; never measured on)")
    parser.add_argument("--trackers", default=",".join(TRACKERS), help=f"default: {','.join(TRACKERS)}")
    parser.add_argument("--out", required=True, type=Path, help="folder for real-video.json (the shipped one: "
                        "deeptrack_lite/course/results)")
    parser.add_argument("--work", type=Path, default=None, help="folder for the raw runs (resumable; default: "
                        "real-video-runs/ in the data folder)")
    parser.add_argument("--device", default="auto", help=DEVICE_HELP)
    args = parser.parse_args(argv)
    try:
        names = [n for n in args.sequences.split(",") if n]
        tuned = {n for n in args.tuned_on.split(",") if n}
        if set(names) & tuned:
            raise DeepTrackError(f"measured and tuned on the same sequences: {', '.join(sorted(set(names) & tuned))}; "
                                 "report a tracker only where its settings were not chosen")
        dataset = load_dataset(args.dataset).subset(names)
        trackers = [t for t in args.trackers.split(",") if t]
        runs = measure(dataset, args.work or default_data_dir() / "real-video-runs", trackers, device=args.device)
        command = command_line("deeptrack_lite.course.real_video", sys.argv[1:] if argv is None else argv)
        path = write_record(Path(args.out) / SHIPPED.name, runs, dataset=dataset, tuned_on=tuned, command=command)
        print(f"wrote {path}")
        for name, run in sorted(runs.items(), key=lambda kv: -kv[1]["success_auc"]):
            print(f"{name:>10}  AUC {run['success_auc']:.3f}  P@20 {run['precision_20px']:.3f}  {run['fps']:.1f} FPS")
    except DeepTrackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["OFFLINE_WEIGHTS", "SHIPPED", "TRACKERS", "compare", "load_record", "measure", "ranks", "spearman",
           "stale_trackers", "tracker_code", "trained_on_synthetic_scenes", "training_data", "write_record"]
