"""Notebook 06's benchmark, shipped: every tracker's runs on the synthetic benchmark, made once by one command.

Every tracker of the package on the 14 synthetic sequences takes about 12 minutes on a 2-core CPU at the
notebook's full length (100 frames) and over 3 minutes in fast mode (20 frames): more than a lab session should
wait for. So the package ships those runs (boxes, per-frame times and presence scores, and the settings each was
made with, the tracker's code fingerprint included) in ``course/results/benchmark-synthetic-<N>f.json.gz``, and
the runs on the long-term sequences, where the target leaves the view (:func:`~deeptrack_lite.data.long_term_benchmark`),
in ``benchmark-synthetic-longterm-<N>f.json.gz``, made by::

    python -m deeptrack_lite.course.benchmark_runs --out deeptrack_lite/course/results

:func:`prefill` copies into a results folder the shipped runs that :func:`~deeptrack_lite.evaluation.run_ope`
would accept as its own (:func:`~deeptrack_lite.evaluation.ope.run_settings`: same tracker, parameters, seed,
frames, package version and tracker code). Anything else, such as a tracker edited since, is left for
``run_ope`` to compute. The times in the shipped runs were measured on the machine their ``device`` names.
"""
from __future__ import annotations

import gzip
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataError, DeepTrackError
from ..evaluation.ope import (read_result, run_ope, run_settings, settings_mismatch, stale_reason, tracker_specs,
                              write_result)
from ..fileio import atomic_write_bytes, make_folder
from ..trackers import available_trackers
from .studies import provenance

SHIPPED = Path(__file__).resolve().parent / "results"
FRAMES = (100, 20)  # the notebook's full and fast mode
LONG_TERM_FRAMES = (100, 40)  # the long-term sequences' full and fast mode (shorter ones hardly leave the view)


def benchmark_datasets(frames=FRAMES, long_term_frames=LONG_TERM_FRAMES) -> list:
    """The datasets whose runs are shipped: the synthetic benchmark and the long-term sequences, at each length."""
    from ..data import long_term_benchmark, synthetic_benchmark

    return ([synthetic_benchmark(n_frames=n) for n in frames] +
            [long_term_benchmark(n_frames=n) for n in long_term_frames])


def benchmark_trackers() -> list[str]:
    """Every registered tracker except the test doubles: what notebook 06 benchmarks."""
    return [name for name in available_trackers() if not name.startswith("test")]


def shipped_path(n_frames: int, folder=SHIPPED, dataset_name: str = "synthetic") -> Path:
    return Path(folder) / f"benchmark-{dataset_name}-{int(n_frames)}f.json.gz"


def collect_runs(trackers, dataset, work_dir, *, device="auto", progress: bool = True) -> dict:
    """Run (or resume, from ``work_dir``) every tracker on ``dataset`` with seed 0 and gather the results:
    ``{label: {sequence: {"boxes", "times", "info"}}}``. A failed run is an error: a shipped benchmark is complete."""
    run_ope(trackers, dataset, work_dir, device=device, progress=progress).require_complete("the benchmark", DeepTrackError)
    runs = {}
    for spec in tracker_specs(trackers):
        runs[spec.label] = {}
        for seq in dataset:
            r = read_result(Path(work_dir) / spec.label, seq)
            runs[spec.label][seq.name] = {"boxes": [[round(float(v), 3) for v in b] for b in r["boxes"]],
                                          "times": None if r["times"] is None else [float(f"{t:.6g}") for t in r["times"]],
                                          "scores": None if r["scores"] is None else [float(f"{v:.6g}") for v in r["scores"]],
                                          "info": r["info"]}
    return runs


def write_runs(path, runs: dict, *, dataset_name: str, n_frames: int, command: str) -> Path:
    """Write ``runs`` (from :func:`collect_runs`) with their provenance as gzip-compressed JSON."""
    record = {"dataset": dataset_name, "frames": int(n_frames), "runs": runs, "provenance": provenance(command)}
    path = Path(path)
    make_folder(path.parent)
    atomic_write_bytes(path, gzip.compress(json.dumps(record, separators=(",", ":")).encode(), mtime=0))
    return path


def load_runs(path) -> dict:
    try:
        return json.loads(gzip.decompress(Path(path).read_bytes()))
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"{path}: not a shipped benchmark file ({exc})") from None


def _misfit(run: dict, spec, sequence) -> str | None:
    """Why ``run_ope`` would not accept a shipped run as its own seed-0 result (None: it would)."""
    return settings_mismatch(run["info"], run_settings(spec, sequence, 0))


@dataclass
class Prefill:
    """What :func:`prefill` did: runs copied, runs the folder already had, runs left to compute and why."""

    source: str | None = None
    copied: int = 0
    present: int = 0
    replaced: int = 0  # of the copied: outdated results in the folder that a fitting shipped run replaced
    stale: dict = field(default_factory=dict)   # (tracker, sequence) -> why the shipped run does not fit
    missing: list = field(default_factory=list)  # (tracker, sequence) that nothing was shipped for

    def __str__(self) -> str:
        if self.source is None:
            return "no shipped runs for this benchmark: every run is computed here"
        text = f"{self.copied} shipped runs copied, {self.present} already in the results folder"
        if self.replaced:
            text += f" ({self.replaced} outdated results there replaced by shipped runs)"
        if self.stale:
            trackers = sorted({t for t, _ in self.stale})
            why = next(iter(self.stale.values()))
            text += (f"; {len(self.stale)} shipped runs of {', '.join(trackers)} do not fit the code here (e.g. {why}): "
                     "run_ope computes them")
        if self.missing:
            text += f"; {len(self.missing)} runs were not shipped: run_ope computes them"
        return text


def prefill(results_dir, dataset, trackers=None, *, source=None) -> Prefill:
    """Copy into ``results_dir`` the shipped runs of ``trackers`` (default: :func:`benchmark_trackers`) on
    ``dataset`` that fit the code here; results already in ``results_dir`` are kept when ``run_ope`` would reuse
    them, and replaced by a fitting shipped run when it would not (made by older code, say). ``source``: a
    file from :func:`write_runs` (default: the shipped one for the dataset's frame count, if any)."""
    trackers = benchmark_trackers() if trackers is None else trackers
    out = Prefill()
    n_frames = len(dataset[0]) if len(dataset) else 0
    path = Path(source) if source is not None else shipped_path(n_frames, dataset_name=dataset.name)
    if not path.is_file():
        return out
    out.source = str(path)
    shipped = load_runs(path)["runs"]
    for spec in tracker_specs(trackers):
        for seq in dataset:
            run_dir = Path(results_dir) / spec.label
            outdated = False
            if (run_dir / f"{seq.name}.txt").is_file():
                # a result the code here would reuse is kept; an outdated one (made by older code, say) gives
                # way to a shipped run that fits, rather than being computed again
                if stale_reason(run_dir, seq, run_settings(spec, seq, 0)) is None:
                    out.present += 1
                    continue
                outdated = True
            run = shipped.get(spec.label, {}).get(seq.name)
            if run is None:
                out.missing.append((spec.label, seq.name))
                continue
            why = _misfit(run, spec, seq)
            if why is not None:
                out.stale[(spec.label, seq.name)] = why
                continue
            write_result(run_dir, seq.name, run["boxes"], run["times"], dict(run["info"], shipped=True),
                         scores=run.get("scores"))
            out.copied += 1
            out.replaced += outdated
    return out


def check_shipped(folder=SHIPPED, datasets=None) -> list[str]:
    """Every way the shipped runs differ from what the code here would compute (empty when they are current)."""
    problems = []
    for bench in benchmark_datasets() if datasets is None else datasets:
        path = shipped_path(len(bench[0]), folder, bench.name)
        if not path.is_file():
            problems.append(f"{path.name} is missing")
            continue
        runs = load_runs(path)["runs"]
        for spec in tracker_specs(benchmark_trackers()):
            for seq in bench:
                run = runs.get(spec.label, {}).get(seq.name)
                why = "it is missing" if run is None else _misfit(run, spec, seq)
                if why:
                    problems.append(f"{path.name}: {spec.label} on {seq.name}: {why}")
    return problems


def main(argv=None) -> int:
    """``python -m deeptrack_lite.course.benchmark_runs``: run the benchmark and write the shipped files."""
    import argparse

    from ..data import default_data_dir
    from ..runtime import device as pick_device

    parser = argparse.ArgumentParser(prog="python -m deeptrack_lite.course.benchmark_runs",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="folder for the files (the shipped ones: "
                        "deeptrack_lite/course/results)")
    parser.add_argument("--frames", default=",".join(map(str, FRAMES)), help="comma-separated lengths of the "
                        f"synthetic benchmark (default {','.join(map(str, FRAMES))}: the notebook's full and fast mode)")
    parser.add_argument("--long-term-frames", default=",".join(map(str, LONG_TERM_FRAMES)), help="comma-separated "
                        f"lengths of the long-term sequences (default {','.join(map(str, LONG_TERM_FRAMES))}; '' for none)")
    parser.add_argument("--work", type=Path, default=None, help="folder for the raw runs (resumable; default: "
                        "benchmark-runs/ in the data folder)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: auto)")
    args = parser.parse_args(argv)
    try:
        frames = [int(f) for f in args.frames.split(",") if f]
        long_term_frames = [int(f) for f in args.long_term_frames.split(",") if f]
        if any(f < 2 for f in frames + long_term_frames):
            raise DeepTrackError("--frames and --long-term-frames must be at least 2")
        work = args.work or default_data_dir() / "benchmark-runs"
        device = pick_device() if args.device == "auto" else args.device
        command = "python -m deeptrack_lite.course.benchmark_runs " + " ".join(sys.argv[1:] if argv is None else argv)
        for bench in benchmark_datasets(frames, long_term_frames):
            n = len(bench[0])
            runs = collect_runs(benchmark_trackers(), bench, work / f"{bench.name}-{n}f", device=device)
            path = write_runs(shipped_path(n, args.out, bench.name), runs, dataset_name=bench.name, n_frames=n,
                              command=command)
            print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB, {len(runs)} trackers x {len(bench)} sequences)")
    except DeepTrackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["Prefill", "benchmark_datasets", "benchmark_trackers", "check_shipped", "collect_runs", "load_runs", "prefill", "shipped_path",
           "write_runs"]
