"""Dataset-level OPE scores: averaged curves, the ranked table, per-attribute tables, speed, JSON summary.

Dataset curves average the per-sequence curves (every sequence weighs the same), then the scores are read
from the averaged curves: success AUC = mean of the 21 success values, precision = value at 20 px. With
several seeds, each seed is scored on its own and the table reports the mean and the standard deviation.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import DataError
from ..outputs import write_text
from .metrics import PRECISION_THRESHOLDS, SUCCESS_THRESHOLDS, precision_at, success_auc

if TYPE_CHECKING:  # only named here: importing data loads torch, and the command line's --help reads RANK_BY
    from ..data.sequence import Dataset

#: the summary's columns a ranking can sort by (higher first); the command line's --rank-by offers these
RANK_BY = ("success_auc", "precision_20px", "normalized_precision", "fps")


NOT_REPEATABLE = ("† not repeatable: this tracker draws random numbers no seed reaches (OpenCV's MIL), so a second "
                  "run of the same frames gives other boxes; its figures vary from run to run")


@dataclass
class OPEReport:
    dataset: Dataset
    trackers: list
    seeds: list
    scores: dict  # (tracker, sequence, seed) -> SequenceScore
    missing: list = field(default_factory=list)
    failures: dict = field(default_factory=dict)
    recomputed: dict = field(default_factory=dict)  # (tracker, sequence, seed) -> why the stored result was not reused
    skipped_runs: int = 0

    def require_complete(self, what: str, error=DataError) -> "OPEReport":
        """This report, or ``error`` naming every failed run: for records that must hold every run ("the
        benchmark", "the real-video runs"), where a gap would pass for a result."""
        if self.failures:
            lines = "; ".join(f"{t} on {s}: {e}" for (t, s, _), e in self.failures.items())
            raise error(f"{what} is incomplete: {lines}")
        return self

    # ------------------------------------------------------------------ curves and scores
    def _sequences(self, sequences=None) -> list[str]:
        names = self.dataset.names if sequences is None else list(sequences)
        unknown = set(names) - set(self.dataset.names)
        if unknown:
            raise DataError(f"not in dataset {self.dataset.name!r}: {', '.join(sorted(unknown))}")
        return names

    def sequence_scores(self, tracker: str, sequences=None, seed="all") -> list:
        names = self._sequences(sequences)
        seeds = self.seeds if seed == "all" else [seed]
        return [self.scores[(tracker, n, s)] for s in seeds for n in names if (tracker, n, s) in self.scores]

    def curves(self, tracker: str, sequences=None) -> dict:
        """Averaged curves of one tracker over ``sequences`` (default: all), per seed and over seeds."""
        names = self._sequences(sequences)
        per_seed = []
        for seed in self.seeds:
            got = [self.scores[(tracker, n, seed)] for n in names if (tracker, n, seed) in self.scores]
            if got:
                per_seed.append({
                    "success": np.mean([g.success for g in got], axis=0),
                    "precision": np.mean([g.precision for g in got], axis=0),
                    "normalized_precision": np.mean([g.normalized_precision for g in got], axis=0),
                    "n": len(got),
                })
        if not per_seed:
            return {}
        out = {k: np.mean([p[k] for p in per_seed], axis=0) for k in ("success", "precision", "normalized_precision")}
        out["n_sequences"] = min(p["n"] for p in per_seed)
        out["auc_per_seed"] = [success_auc(p["success"]) for p in per_seed]
        out["precision_per_seed"] = [precision_at(p["precision"], 20) for p in per_seed]
        return out

    def summary(self, sequences=None) -> list[dict]:
        """One row per tracker: success AUC, precision@20, normalized precision, FPS and device,
        with standard deviations over seeds when there are several."""
        names = self._sequences(sequences)
        rows = []
        for tracker in self.trackers:
            c = self.curves(tracker, names)
            if not c:
                continue
            scores = self.sequence_scores(tracker, names)
            timed = [s for s in scores if s.total_time is not None]
            frames = sum(s.frames for s in timed)
            total = sum(s.total_time for s in timed)
            devices = sorted({s.device for s in scores})
            rows.append({
                "tracker": tracker,
                "success_auc": success_auc(c["success"]),
                "precision_20px": precision_at(c["precision"], 20),
                "normalized_precision": float(c["normalized_precision"][20]),
                "success_auc_std": float(np.std(c["auc_per_seed"])),
                "precision_20px_std": float(np.std(c["precision_per_seed"])),
                "fps": frames / total if total > 0 else None,
                "init_ms": 1000 * float(np.mean([s.init_time for s in timed])) if timed else None,
                "device": ", ".join(devices),
                "sequences": c["n_sequences"],
                "complete": c["n_sequences"] == len(names),
                "repeatable": all(s.repeatable for s in scores),
            })
        return rows

    def ranked(self, by: str = "success_auc", sequences=None) -> list[dict]:
        if by not in RANK_BY:
            raise DataError(f"cannot rank by {by!r}; one of {', '.join(RANK_BY)}")
        return sorted(self.summary(sequences), key=lambda r: -(r[by] or 0.0))

    def table(self, by: str = "success_auc", sequences=None, markdown: bool = False) -> str:
        """The ranked table as text (or Markdown): tracker, success AUC, precision@20, FPS, device."""
        rows = self.ranked(by, sequences)
        several = len(self.seeds) > 1
        head = ["rank", "tracker", "success AUC", "precision@20px", "norm. precision", "FPS", "init (ms)", "device"]
        body = []
        for i, r in enumerate(rows, 1):
            auc = f"{r['success_auc']:.3f}" + (f" ± {r['success_auc_std']:.3f}" if several else "")
            prec = f"{r['precision_20px']:.3f}" + (f" ± {r['precision_20px_std']:.3f}" if several else "")
            name = r["tracker"] + ("" if r["repeatable"] else " †") + ("" if r["complete"] else f" (only {r['sequences']} seq.)")
            fps = f"{r['fps']:.1f}" if r["fps"] else "n/a"
            init = f"{r['init_ms']:.1f}" if r["init_ms"] is not None else "n/a"
            body.append([str(i), name, auc, prec, f"{r['normalized_precision']:.3f}", fps, init, r["device"]])
        note = ([NOT_REPEATABLE] if not all(r["repeatable"] for r in rows) else [])
        if markdown:
            lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            lines += ["| " + " | ".join(b) + " |" for b in body]
            return "\n".join(lines + ["", *note] if note else lines)
        widths = [max(len(x) for x in col) for col in zip(head, *body)]
        fmt = lambda cells: "  ".join(c.rjust(w) if i not in (1, 7) else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
        return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(b) for b in body] + note)

    # ------------------------------------------------------------------ attributes and drill-down
    def attribute_summary(self) -> dict:
        """{tag: ranked rows over the sequences carrying that tag} for every tag present in the dataset."""
        out = {}
        for tag, names in self.dataset.attribute_table().items():
            if names:
                out[tag] = self.ranked("success_auc", names)
        return out

    def attribute_table(self, metric: str = "success_auc", markdown: bool = False) -> str:
        """Trackers as columns, attributes as rows, ``metric`` in the cells (number of sequences in brackets)."""
        summary = self.attribute_summary()
        head = ["attribute"] + list(self.trackers)
        body = []
        for tag, rows in summary.items():
            by_tracker = {r["tracker"]: r[metric] for r in rows}
            n = len(self.dataset.attribute_table()[tag])
            body.append([f"{tag} ({n})"] + [f"{by_tracker[t]:.3f}" if t in by_tracker else "-" for t in self.trackers])
        if markdown:
            return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
                             + ["| " + " | ".join(b) + " |" for b in body])
        widths = [max(len(x) for x in col) for col in zip(head, *body)]
        return "\n".join("  ".join(c.rjust(w) for c, w in zip(cells, widths)) for cells in [head] + body)

    def overlaps(self, sequence: str, seed=None) -> dict:
        """{tracker: per-frame IoU} on one sequence (the first seed unless one is given)."""
        seed = self.seeds[0] if seed is None else seed
        return {t: self.scores[(t, sequence, seed)].overlaps for t in self.trackers if (t, sequence, seed) in self.scores}

    def boxes(self, sequence: str, seed=None) -> dict:
        seed = self.seeds[0] if seed is None else seed
        return {t: self.scores[(t, sequence, seed)].boxes for t in self.trackers if (t, sequence, seed) in self.scores}

    def worst_frames(self, sequence: str, k: int = 4) -> list[int]:
        """The ``k`` frames where the trackers' mean IoU is lowest, at least a few frames apart."""
        ov = self.overlaps(sequence)
        if not ov:
            raise DataError(f"no results on {sequence!r}")
        mean = np.mean(list(ov.values()), axis=0)
        visible = np.nonzero(self.dataset[sequence].target_visible)[0]
        order = visible[np.argsort(mean, kind="stable")]
        picked: list[int] = []
        gap = max(1, len(mean) // (4 * k))
        for i in order:
            if all(abs(int(i) - p) >= gap for p in picked):
                picked.append(int(i))
            if len(picked) == k:
                break
        return sorted(picked)

    # ------------------------------------------------------------------ export
    def to_dict(self) -> dict:
        curves = {t: {k: np.asarray(v).tolist() for k, v in self.curves(t).items() if k in ("success", "precision", "normalized_precision")}
                  for t in self.trackers}
        return {
            "dataset": self.dataset.name,
            "sequences": self.dataset.names,
            "seeds": self.seeds,
            "ranking": self.ranked(),
            "attributes": {tag: rows for tag, rows in self.attribute_summary().items()},
            "curves": curves,
            "thresholds": {"success": SUCCESS_THRESHOLDS.tolist(), "precision": PRECISION_THRESHOLDS.tolist()},
            "per_sequence": [{"tracker": s.tracker, "sequence": s.sequence, "seed": s.seed,
                              "success_auc": success_auc(s.success), "precision_20px": precision_at(s.precision, 20),
                              "fps": s.frames / s.total_time if s.total_time else None}
                             for s in self.scores.values()],
            "missing": [list(m) for m in self.missing],
            "failures": [{"tracker": t, "sequence": q, "seed": s, "error": e} for (t, q, s), e in self.failures.items()],
            "recomputed": [{"tracker": t, "sequence": q, "seed": s, "why": e} for (t, q, s), e in self.recomputed.items()],
        }

    def save_json(self, path) -> Path:
        path = Path(path)
        write_text(path, json.dumps(self.to_dict(), indent=1))
        return path

    def __repr__(self) -> str:
        return f"OPEReport({self.dataset.name!r}, trackers={self.trackers}, {len(self.scores)} scored runs)\n" + self.table()

