"""Notebook 06's benchmark, shipped: every tracker's runs on the synthetic benchmark, made once by one command.

Every tracker of the package on the 14 synthetic sequences takes about 12 minutes on a 2-core CPU at the
notebook's full length (100 frames) and over 3 minutes in fast mode (20 frames): more than a lab session should
wait for. So the package ships those runs (boxes, per-frame times and presence scores, and the settings each was
made with, the tracker's code fingerprint included) in ``course/results/benchmark-synthetic-<N>f.json.gz``, and
the runs on the long-term sequences, where the target leaves the view (:func:`~deeptrack_lite.data.long_term_benchmark`),
in ``benchmark-synthetic-longterm-<N>f.json.gz``, made by::

    python -m deeptrack_lite.course.benchmark_runs --out deeptrack_lite/course/results

After a change that should move no box (a refactor, a new input check), ``--probe`` confirms the shipped runs
instead of re-making them: :func:`confirm_by_probe`.

:func:`prefill` copies into a results folder the shipped runs that :func:`~deeptrack_lite.evaluation.run_ope`
would accept as its own (:func:`~deeptrack_lite.evaluation.results.run_settings`: same tracker, parameters, seed,
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
from ..evaluation.ope import run_ope
from ..evaluation.results import (has_result, read_result, run_dir, run_settings, settings_mismatch, stale_reason,
                                  write_result)
from ..evaluation.specs import tracker_specs
from ..cli import DEVICE_HELP
from ..fileio import atomic_write_bytes, make_folder
from ..trackers import available_trackers
from ..version import command_line, provenance

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
            r = read_result(run_dir(work_dir, spec.label), seq)
            runs[spec.label][seq.name] = {"boxes": [[round(float(v), 3) for v in b] for b in r["boxes"]],
                                          "times": None if r["times"] is None else [float(f"{t:.6g}") for t in r["times"]],
                                          "scores": None if r["scores"] is None else [float(f"{v:.6g}") for v in r["scores"]],
                                          "info": r["info"]}
    return runs


def write_runs(path, runs: dict, *, dataset_name: str, n_frames: int, command: str,
               confirmed_by_probe: dict | None = None, kept_from: dict | None = None) -> Path:
    """Write ``runs`` (from :func:`collect_runs`) with their provenance as gzip-compressed JSON. A ``--probe`` run
    also lists the trackers whose runs it confirmed instead of running them (:func:`confirm_by_probe`), and
    ``kept_from``, the provenance of the file those runs (and their times) come from."""
    prov = provenance(command)
    if confirmed_by_probe:
        prov["confirmed_by_probe"] = sorted(confirmed_by_probe)
    if kept_from:
        prov["runs_kept_from"] = {k: v for k, v in kept_from.items() if k != "runs_kept_from"}
    record = {"dataset": dataset_name, "frames": int(n_frames), "runs": runs, "provenance": prov}
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
            folder = run_dir(results_dir, spec.label)
            outdated = False
            if has_result(folder, seq.name):
                # a result the code here would reuse is kept; an outdated one (made by older code, say) gives
                # way to a shipped run that fits, rather than being computed again
                if stale_reason(folder, seq, run_settings(spec, seq, 0)) is None:
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
            write_result(folder, seq.name, run["boxes"], run["times"], dict(run["info"], shipped=True),
                         scores=run.get("scores"))
            out.copied += 1
            out.replaced += outdated
    return out


@dataclass
class ProbeOutcome:
    """What :func:`confirm_by_probe` found, per tracker whose shipped runs were stale by their code alone."""

    confirmed: dict = field(default_factory=dict)    # label -> the new code fingerprint, now recorded
    differ: dict = field(default_factory=dict)       # label -> the first run whose boxes changed
    other: list = field(default_factory=list)        # labels stale for another reason, or not shipped: run in full


def confirm_by_probe(trackers, shipped: dict, probe: str, datasets: dict, work_dir, *, device="auto",
                     progress: bool = True) -> ProbeOutcome:
    """Confirm, cheaply, shipped runs that only a code change made stale (a refactor, a new check): run each such
    tracker again on the shipped benchmark ``probe`` (a key of ``shipped``, the shortest one) and compare the boxes
    and scores with the shipped ones at their stored precision (0.001 px). Where all are identical, every shipped
    run of that tracker gets the new fingerprint in ``info["code"]`` and ``info["code_confirmed_by_probe"]``
    says so; where one differs, or a tracker is stale for another reason, it is left for a full run.

    ``shipped``: {file name: record (:func:`load_runs`)}, updated in place; ``datasets``: {file name: dataset}.
    The probe covers every sequence of ``probe`` and every frame of it, so a change that moves any box there is
    caught; a change that moves boxes only on longer sequences is not (docs/design.md says when to use which)."""
    out = ProbeOutcome()
    candidates = {}
    for spec in tracker_specs(trackers):
        codes, other = set(), False
        for name, record in shipped.items():
            for seq in datasets[name]:
                run = record["runs"].get(spec.label, {}).get(seq.name)
                if run is None:
                    other = True
                    continue
                want = run_settings(spec, seq, 0)
                if settings_mismatch(run["info"], want) is None:
                    continue
                # stale by its code alone: every other setting matches
                if settings_mismatch(run["info"], dict(want, code=run["info"].get("code"))) is None:
                    codes.add(want["code"])
                else:
                    other = True
        if other:
            out.other.append(spec.label)
        elif codes:
            candidates[spec.label] = codes.pop()
    if not candidates:
        return out
    fresh = collect_runs(list(candidates), datasets[probe], work_dir, device=device, progress=progress)
    for label, code in candidates.items():
        stored = shipped[probe]["runs"][label]
        # as written to the file (NaN, the first frame's score, equals itself there)
        same = lambda run, seq: json.dumps([run["boxes"], run["scores"]]) == json.dumps([stored[seq]["boxes"],
                                                                                          stored[seq].get("scores")])
        changed = next((seq for seq, run in fresh[label].items() if not same(run, seq)), None)
        if changed is not None:
            out.differ[label] = f"{label} on {changed} of {probe}: other boxes or scores"
            continue
        note = f"boxes and scores identical on every run of {probe} ({len(stored)} sequences)"
        for record in shipped.values():
            for run in record["runs"][label].values():
                run["info"] = dict(run["info"], code=code, code_confirmed_by_probe=note)
        out.confirmed[label] = code
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
    parser.add_argument("--device", default="auto", help=DEVICE_HELP)
    parser.add_argument("--probe", action="store_true", help="for trackers whose shipped runs only a code change made "
                        "stale, run the shortest benchmark again and, where every box is identical, record the new "
                        "code fingerprint instead of running the others (minutes instead of half an hour); the rest "
                        "run in full")
    args = parser.parse_args(argv)
    try:
        frames = [int(f) for f in args.frames.split(",") if f]
        long_term_frames = [int(f) for f in args.long_term_frames.split(",") if f]
        if any(f < 2 for f in frames + long_term_frames):
            raise DeepTrackError("--frames and --long-term-frames must be at least 2")
        work = args.work or default_data_dir() / "benchmark-runs"
        device = pick_device() if args.device == "auto" else args.device
        command = command_line("deeptrack_lite.course.benchmark_runs", sys.argv[1:] if argv is None else argv)
        benches = {shipped_path(len(b[0]), args.out, b.name).name: b for b in benchmark_datasets(frames, long_term_frames)}
        trackers, kept, confirmed = benchmark_trackers(), {}, {}
        if args.probe:
            kept = {name: load_runs(Path(args.out) / name) for name in benches if (Path(args.out) / name).is_file()}
            probe = min(kept, key=lambda name: len(benches[name][0]) * len(benches[name]), default=None)
            if probe is not None and set(kept) == set(benches):
                outcome = confirm_by_probe(trackers, kept, probe, benches, work / ("probe-" + probe.split(".")[0]),
                                           device=device)
                confirmed = outcome.confirmed
                for label, why in outcome.differ.items():
                    print(f"{label}: not confirmed ({why}); running it in full")
                print(f"confirmed by the probe on {probe}: {', '.join(confirmed) or 'none'}")
                trackers = [t for t in trackers if t in outcome.other or t in outcome.differ]
                if not trackers and not confirmed:
                    print("every shipped run is what the code here computes: nothing to do")
                    return 0
            else:
                kept = {}
        for name, bench in benches.items():
            n = len(bench[0])
            runs = dict(kept.get(name, {}).get("runs", {}))
            if trackers:
                runs.update(collect_runs(trackers, bench, work / f"{bench.name}-{n}f", device=device))
            runs = {label: runs[label] for label in benchmark_trackers() if label in runs}
            path = write_runs(shipped_path(n, args.out, bench.name), runs, dataset_name=bench.name, n_frames=n,
                              command=command, confirmed_by_probe=confirmed,
                              kept_from=kept[name]["provenance"] if name in kept else None)
            print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB, {len(runs)} trackers x {len(bench)} sequences)")
    except DeepTrackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["Prefill", "benchmark_datasets", "benchmark_trackers", "check_shipped", "collect_runs", "load_runs", "prefill", "shipped_path",
           "write_runs"]
