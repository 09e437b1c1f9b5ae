"""The OTB plots: precision and success plots of OPE with the score in each legend entry (as in the
survey's Figure 4), per-attribute success plots, and the per-sequence drill-down."""
from __future__ import annotations

import numpy as np

from ..data.sequence import ATTRIBUTES
from .metrics import PRECISION_THRESHOLDS, SUCCESS_THRESHOLDS, precision_at, success_auc

_STYLES = ["-", "--", "-.", ":"]


def _color(report, tracker: str) -> str:
    """One colour per tracker across every plot of a report (its position in ``report.trackers``)."""
    return f"C{report.trackers.index(tracker) % 10}"


def _axes(ax, figsize=(5, 4)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _plot_curves(report, ax, sequences, key: str, thresholds, score, kind: str):
    """One OTB plot: every tracker's averaged ``key`` curve, legend ranked by ``score`` (shown in brackets)."""
    ax = _axes(ax)
    entries = [(t, report.curves(t, sequences)) for t in report.trackers]
    entries = sorted([(t, c) for t, c in entries if c], key=lambda e: -score(e[1][key]))
    for i, (t, c) in enumerate(entries):
        ax.plot(thresholds, c[key], _STYLES[(i // 10) % 4], color=_color(report, t), lw=2,
                label=f"{t} [{score(c[key]):.3f}]")
    ax.set_title(f"{kind} plots of OPE ({report.dataset.name})")
    ax.grid(alpha=0.3)
    return ax


def plot_success(report, ax=None, sequences=None, title: str | None = None):
    """Success plot of OPE: fraction of frames with IoU > threshold; legend ranked by AUC."""
    ax = _plot_curves(report, ax, sequences, "success", SUCCESS_THRESHOLDS, success_auc, "Success")
    ax.set(xlabel="overlap threshold", ylabel="success rate", xlim=(0, 1), ylim=(0, 1.02), title=title or ax.get_title())
    ax.legend(loc="lower left", fontsize=8)
    return ax


def plot_precision(report, ax=None, sequences=None, title: str | None = None):
    """Precision plot of OPE: fraction of frames with center error <= threshold; legend ranked by
    precision at 20 px."""
    ax = _plot_curves(report, ax, sequences, "precision", PRECISION_THRESHOLDS, lambda c: precision_at(c, 20),
                      "Precision")
    ax.axvline(20, color="gray", lw=0.8, ls="--")
    ax.set(xlabel="location error threshold (px)", ylabel="precision", xlim=(0, 50), ylim=(0, 1.02),
           title=title or ax.get_title())
    ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_ope(report, sequences=None):
    """The two OTB plots side by side; returns the figure."""
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    plot_precision(report, a, sequences)
    plot_success(report, b, sequences)
    fig.tight_layout()
    return fig


def plot_attributes(report, columns: int = 4):
    """One success plot per attribute, over the sequences that carry it (count in the title)."""
    import matplotlib.pyplot as plt

    table = report.dataset.attribute_table()
    tags = [t for t in ATTRIBUTES if table[t]]
    rows = int(np.ceil(len(tags) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 3.4 * rows), squeeze=False)
    for ax in axes.ravel()[len(tags):]:
        ax.axis("off")
    for ax, tag in zip(axes.ravel(), tags):
        plot_success(report, ax, table[tag], title=f"{tag}: {ATTRIBUTES[tag].split(' (')[0]} ({len(table[tag])})")
        ax.set_xlabel("")
        ax.set_ylabel("")
    fig.tight_layout()
    return fig


def plot_overlap_timeline(report, sequence: str, ax=None):
    """IoU over time of every tracker on one sequence, with the target's absence shaded."""
    ax = _axes(ax, figsize=(9, 3))
    for t, ov in report.overlaps(sequence).items():
        ax.plot(np.nonzero(report.dataset[sequence].target_visible)[0], ov, color=_color(report, t), lw=1.5, label=t)
    ax.set(xlabel="frame", ylabel="IoU", ylim=(0, 1), title=f"{sequence}: overlap with the ground truth")
    ax.legend(fontsize=8, ncol=4)
    return ax


def show_worst_frames(report, sequence: str, k: int = 4):
    """The frames where the trackers do worst, with every tracker's box drawn."""
    from ..viz.draw import show_frames

    seq = report.dataset[sequence]
    return show_frames(seq, report.worst_frames(sequence, k), boxes=report.boxes(sequence), columns=k,
                       title=f"{sequence}: the {k} frames with the lowest mean IoU")
