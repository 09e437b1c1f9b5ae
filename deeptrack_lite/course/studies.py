"""The notebooks' ablation studies, measured in full on the synthetic benchmark, and their shipped results.

A notebook has minutes, not the half hour an ablation on every sequence takes on a 2-core CPU, so it runs a
small version live and shows, beside it, the full result this module computed once and the package ships
(``course/results/<study>.json``). Each study compares a tracker's default setting with variants that switch
one idea off, on every sequence of the synthetic benchmark; each variant's verdict (helps, hurts, tie) comes
from a paired bootstrap interval over sequences (:func:`~deeptrack_lite.evaluation.paired_bootstrap`).

The shipped files are made by one command, recorded in each file with its settings::

    python -m deeptrack_lite.course.studies --out deeptrack_lite/course/results

Only accuracies are shipped: frames per second depend on the machine and on what else runs on it, so the
notebooks measure speed themselves.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError, DeepTrackError
from ..evaluation import paired_bootstrap, run_ope, success_auc
from ..cli import DEVICE_HELP
from ..fileio import atomic_write_text, make_folder
from ..version import command_line, provenance

SHIPPED = Path(__file__).resolve().parent / "results"
PACKAGE_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FRAMES = 100  # the notebooks' full-mode sequence length


@dataclass(frozen=True)
class Study:
    """One ablation: ``baseline`` and ``variants`` are ``label -> (tracker name, parameters)``."""

    name: str
    notebook: str
    question: str
    baseline: tuple
    variants: dict

    def trackers(self) -> dict:
        label, spec = self.baseline
        return {label: spec, **self.variants}


STUDIES = {
    "dlt": Study("dlt", "03_dlt", "what pretraining and the limited-threshold update are worth",
                 ("dlt", ("dlt", {})),
                 {"random encoder (no pretraining)": ("dlt", {"pretrained": False}),
                  "never update (tau = 0)": ("dlt", {"threshold": 0.0})}),
    "fcnt": Study("fcnt", "04_fcnt", "what feature-map selection and the distractor switch are worth",
                  ("fcnt", ("fcnt", {})),
                  {"all maps (no selection)": ("fcnt", {"select_low": None, "select_high": None}),
                   "GNet only (threshold 1.0)": ("fcnt", {"distractor_threshold": 1.0}),
                   "SNet only (threshold -1)": ("fcnt", {"distractor_threshold": -1.0})}),
    "mdnet": Study("mdnet", "05_mdnet", "what multi-domain training, hard negative mining and box regression are worth",
                   ("mdnet", ("mdnet", {})),
                   {"single-domain training": ("mdnet", {"weights": "package:weights/mdnet_single_domain.pt"}),
                    "no hard negative mining": ("mdnet", {"hard_negative_mining": False}),
                    "no box regression": ("mdnet", {"bbox_regression": False})}),
    # notebook 07: one idea of each "where the field went next" tracker
    "siamfc": Study("siamfc", "07_where_next", "what SiamFC's cosine window and scale pyramid are worth",
                    ("siamfc", ("siamfc", {})),
                    {"no cosine window (influence 0)": ("siamfc", {"window_influence": 0.0}),
                     "one scale (no pyramid)": ("siamfc", {"scales": [1.0]})}),
    "recurrent": Study("recurrent", "07_where_next", "what the recurrent tracker's memory, and resetting it, are worth",
                       ("recurrent", ("recurrent", {})),
                       {"no memory (reset every frame)": ("recurrent", {"reset_every": 1}),
                        "never reset the memory": ("recurrent", {"reset_every": 1_000_000})}),
    "hcf": Study("hcf", "07_where_next", "what three feature layers are worth against one",
                 ("hcf (three layers)", ("hcf", {})),
                 {"semantic layer only (stride 16)": ("hcf", {"layers": ["stride16"], "layer_weights": [1.0]}),
                  "fine layer only (stride 4)": ("hcf", {"layers": ["stride4"], "layer_weights": [1.0]})}),
}


OBSERVATION3_TRIALS, OBSERVATION3_STEPS = 24, 150


def run_observation3(n_trials: int = OBSERVATION3_TRIALS, steps: int = OBSERVATION3_STEPS, device="auto",
                     backbone_name: str = "efficientnet_lite0") -> dict:
    """FCNT's third observation (notebook 04) with many trials: per trial, each layer's response to another
    coin (B) relative to the trained coin (A), and to a cup; the paired bootstrap over trials of
    (high B/A) - (low B/A), which is positive when the low layer tells the two coins apart better, as FCNT
    observed on VGG16."""
    from ..features import backbone
    from .fcnt_analysis import instance_vs_category

    net = backbone(backbone_name, device=device)
    test = instance_vs_category(net, n_trials=n_trials, steps=steps)
    return summarize_observation3(test, steps=steps, backbone_name=backbone_name,
                                  taps={k: net.tap(k).name for k in ("low", "high")})


def summarize_observation3(test: dict, *, steps: int, backbone_name: str, taps: dict) -> dict:
    """The record of :func:`run_observation3` from :func:`~.fcnt_analysis.instance_vs_category`'s result."""
    ratios = {}
    for layer in ("low", "high"):
        r = test[layer]
        a = np.maximum(r["target"], 1e-6)
        ratios[layer] = {"same_category": (r["same_category"] / a).tolist(), "other_category": (r["other_category"] / a).tolist(),
                         "picks_target": float(r["picks_target"])}
    c = paired_bootstrap(ratios["high"]["same_category"], ratios["low"]["same_category"], unit="trials")
    return {"study": "observation3", "notebook": "04_fcnt",
            "question": "does the low layer tell two coins apart better than the high layer (FCNT's third observation)?",
            "backbone": backbone_name, "taps": taps, "trials": len(ratios["low"]["same_category"]), "steps": steps,
            "ratios": ratios,
            "mean_b_over_a": {layer: float(np.mean(ratios[layer]["same_category"])) for layer in ratios},
            "mean_cup_over_a": {layer: float(np.mean(ratios[layer]["other_category"])) for layer in ratios},
            "high_minus_low_b_over_a": {"mean": c.mean, "low": c.low, "high": c.high, "level": c.level,
                                        "n_trials": c.n_sequences, "verdict": c.verdict}}


def observation3_verdict(comparison: dict) -> str:
    """A sentence for the bootstrap comparison of (high B/A) - (low B/A)."""
    v = comparison["verdict"]
    interval = f"{comparison['mean']:+.2f} [{comparison['low']:+.2f}, {comparison['high']:+.2f}]"
    if v == "helps":
        return f"high minus low B/A = {interval}: the LOW layer tells the coins apart better, as FCNT observed on VGG16"
    if v == "hurts":
        return f"high minus low B/A = {interval}: the HIGH layer tells the coins apart better, the opposite of FCNT's observation"
    if v == "tie":
        return f"high minus low B/A = {interval}: undecided, the interval contains zero"
    return f"high minus low B/A = {interval}: too few trials to decide"


def resolve_params(params: dict) -> dict:
    """A study's tracker parameters for ``create_tracker``: ``"package:<path>"`` values (stored relative to the
    package, so a study's settings read the same on every machine) become absolute paths."""
    return {k: str(PACKAGE_ROOT / v[len("package:"):]) if isinstance(v, str) and v.startswith("package:") else v
            for k, v in params.items()}


def _study(name: str):
    if name == "observation3":
        return None
    if name not in STUDIES:
        raise DeepTrackError(f"no study called {name!r}; the studies are: {', '.join(STUDIES)}, observation3")
    return STUDIES[name]


def _folder_label(label: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in label).strip("-").lower()


def run_study(name: str, dataset, results_dir, *, seeds=(0,), device="auto", progress: bool = False) -> dict:
    """Run one study on ``dataset`` (resumable: the runs go to ``results_dir``) and summarise it
    (:func:`summarize_study`)."""
    study = _study(name)
    labels = [study.baseline[0], *study.variants]
    specs = {_folder_label(label): (tracker, resolve_params(params)) for label, (tracker, params) in study.trackers().items()}
    report = run_ope(specs, dataset, results_dir, seeds=list(seeds), device=device, progress=progress)
    if report.failures:
        raise DeepTrackError(f"study {name}: runs failed: {report.failures}")
    aucs = {}
    for label in labels:
        per_seq = []
        for seq in dataset.names:
            per_seed = [success_auc(s.success) for s in report.sequence_scores(_folder_label(label), [seq])]
            per_seq.append(per_seed)
        aucs[label] = per_seq
    return summarize_study(study, dataset.names, aucs, seeds=list(seeds), frames=len(dataset[0]))


def summarize_study(study: Study, sequences, aucs: dict, *, seeds, frames: int) -> dict:
    """The study's record: per-sequence success AUC of every setting (lists over seeds), the mean, and each
    variant's paired bootstrap comparison with the baseline (baseline minus variant: positive means the idea
    that the variant switches off helps)."""
    base_label = study.baseline[0]
    base = np.asarray(aucs[base_label], dtype=np.float64)
    comparisons = {}
    for label in study.variants:
        c = paired_bootstrap(base, np.asarray(aucs[label], dtype=np.float64))
        comparisons[label] = {"mean": c.mean, "low": c.low, "high": c.high, "level": c.level,
                              "n_sequences": c.n_sequences, "verdict": c.verdict}
    return {
        "study": study.name, "notebook": study.notebook, "question": study.question,
        "baseline": base_label,
        "settings": {label: {"tracker": t, "params": p} for label, (t, p) in study.trackers().items()},
        "sequences": list(sequences), "frames": frames, "seeds": list(seeds),
        "success_auc": {label: [[float(v) for v in s] for s in per_seq] for label, per_seq in aucs.items()},
        "mean_auc": {label: float(np.mean(np.asarray(per_seq, dtype=np.float64))) for label, per_seq in aucs.items()},
        "comparisons": comparisons,
    }


def write_study(record: dict, out_dir, command: str) -> Path:
    """Write a study record as ``<out_dir>/<study>.json`` with its :func:`provenance`."""
    record = dict(record, provenance=provenance(command))
    path = make_folder(out_dir) / f"{record['study']}.json"
    atomic_write_text(path, json.dumps(record, indent=1) + "\n")
    return path


def shipped_study(name: str) -> dict:
    """The shipped full-mode record of a study (``course/results/<name>.json``)."""
    _study(name)
    path = SHIPPED / f"{name}.json"
    if not path.is_file():
        raise DataError(f"{path} is missing: make it with `python -m deeptrack_lite.course.studies --studies {name} "
                        f"--out {SHIPPED}`")
    return json.loads(path.read_text())


def study_table(record: dict, title: str | None = None) -> str:
    """A plain-text table: mean success AUC per setting, and each variant's difference from the baseline with
    its bootstrap interval and verdict."""
    n, frames, seeds = len(record["sequences"]), record["frames"], record["seeds"]
    lines = [title or f"{record['study']}: {record['question']}",
             f"({n} sequences x {frames} frames, seeds {', '.join(map(str, seeds))}; "
             f"success AUC, 95% paired bootstrap interval over sequences)",
             f"{'setting':<34}{'mean AUC':>9}   baseline minus setting",]
    base = record["baseline"]
    for label, mean in record["mean_auc"].items():
        if label == base:
            lines.append(f"{label:<34}{mean:>9.3f}")
            continue
        c = record["comparisons"][label]
        lines.append(f"{label:<34}{mean:>9.3f}   {c['mean']:+.3f} [{c['low']:+.3f}, {c['high']:+.3f}]: "
                     + {"helps": "the idea helps", "hurts": "the idea hurts", "tie": "a tie",
                        "too few sequences": "too few sequences to decide"}[c["verdict"]])
    return "\n".join(lines)


def study_runs_dir() -> Path:
    """Where the studies' raw tracking results go by default: ``study-runs/`` in the data folder (one user's, not
    the system's shared temp folder, where another user's files would be read back or refuse to be replaced)."""
    from ..data import default_data_dir

    return default_data_dir() / "study-runs"


def main(argv=None) -> int:
    """``python -m deeptrack_lite.course.studies``: run the studies in full and write their records."""
    import argparse

    from ..data import synthetic_benchmark
    from ..runtime import device as pick_device

    parser = argparse.ArgumentParser(prog="python -m deeptrack_lite.course.studies", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="folder for the <study>.json records "
                        "(the shipped ones: deeptrack_lite/course/results)")
    parser.add_argument("--studies", default=",".join([*STUDIES, "observation3"]),
                        help=f"comma-separated (default: {','.join(STUDIES)},observation3)")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds of the stochastic trackers (default 0)")
    parser.add_argument("--frames", type=int, default=DEFAULT_FRAMES, help=f"frames per sequence (default {DEFAULT_FRAMES})")
    parser.add_argument("--sequences", default="", help="comma-separated subset of the benchmark (default: all 14)")
    parser.add_argument("--runs", type=Path, default=None, help="folder for the raw tracking results (resumable; "
                        "default: study-runs/ in the data folder, beside the benchmark's benchmark-runs/)")
    parser.add_argument("--device", default="auto", help=DEVICE_HELP)
    args = parser.parse_args(argv)
    try:
        names = [n for n in args.studies.split(",") if n]
        for n in names:
            _study(n)
        seeds = [int(s) for s in args.seeds.split(",") if s]
        if args.frames < 2:
            raise DeepTrackError("--frames must be at least 2")
        dataset = synthetic_benchmark(n_frames=args.frames, names=[s for s in args.sequences.split(",") if s] or None)
        device = pick_device() if args.device == "auto" else args.device
        runs = args.runs or study_runs_dir()
        command = command_line("deeptrack_lite.course.studies", sys.argv[1:] if argv is None else argv)
        for n in names:
            if n == "observation3":
                record = run_observation3(device=device)
                path = write_study(record, args.out, command)
                print(observation3_verdict(record["high_minus_low_b_over_a"]))
            else:
                record = run_study(n, dataset, runs / f"{dataset.name}-{args.frames}f", seeds=seeds, device=device,
                                   progress=True)
                path = write_study(record, args.out, command)
                print(study_table(record))
            print(f"-> {path}\n")
    except (DeepTrackError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished runs are kept, run the same command again to resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["DEFAULT_FRAMES", "SHIPPED", "STUDIES", "Study", "resolve_params", "observation3_verdict", "run_observation3",
           "summarize_observation3", "run_study", "shipped_study", "study_runs_dir", "study_table",
           "summarize_study", "write_study", "main"]
