"""Notebook 07's closing figure: every tracker of the package on one benchmark, success AUC against speed.

Each tracker belongs to one family (:data:`TRACKER_FAMILIES`, the notebook that builds it); the map draws the
families apart, frames per second on a log axis (the trackers span five orders of magnitude), and puts the
survey's published results beside it in a panel of their own: they were measured on other videos, with the
authors' networks, and the survey gives no speeds, so they share the accuracy axis and nothing else.
"""
from __future__ import annotations


from ..errors import DeepTrackError
from ..evaluation.published import SURVEY_RESULTS
from ..trackers.catalog import FAMILIES, catalog_names

#: family -> trackers, in the order the course meets them (from the one list, :mod:`deeptrack_lite.trackers.catalog`)
TRACKER_FAMILIES = {family: tuple(catalog_names(family)) for family in FAMILIES}
FAMILY_STYLE = {  # marker, colour
    "classic, built here (01-02)": ("o", "tab:gray"),
    "classic, OpenCV": ("s", "tab:olive"),
    "deep, the survey's (03-05)": ("D", "tab:blue"),
    "where the field went next (07)": ("*", "tab:red"),
}
REAL_TIME_FPS = 30.0  # a video's frame rate: faster than this, a tracker keeps up with a live camera


def tracker_family(name: str) -> str:
    """The family of a registered tracker (a study's label such as ``"hcf (three layers)"`` counts as its tracker)."""
    base = name.split(" ")[0]
    for family, members in TRACKER_FAMILIES.items():
        if base in members:
            return family
    raise DeepTrackError(f"tracker {name!r} has no family: add its row to deeptrack_lite.trackers.catalog.CATALOG")


def pareto_front(rows) -> list[str]:
    """The trackers no other tracker beats on both counts (at least as fast and as accurate, better on one):
    the ones worth choosing, whatever the budget."""
    front = []
    for r in rows:
        beaten = any(o is not r and o["fps"] >= r["fps"] and o["success_auc"] >= r["success_auc"] and
                     (o["fps"] > r["fps"] or o["success_auc"] > r["success_auc"]) for o in rows)
        if not beaten:
            front.append(r["tracker"])
    return front


def plot_speed_accuracy(rows, *, published=SURVEY_RESULTS, dataset: str = "", real_time: float = REAL_TIME_FPS,
                        figsize=(13, 5.5)):
    """The speed/accuracy map: ``rows`` are :meth:`~deeptrack_lite.evaluation.OPEReport.summary` rows (tracker,
    success_auc, fps, device). Left: success AUC against FPS (log axis), one marker style per family, the
    real-time rate as a line, the Pareto front joined. Right: the ``published`` results, same accuracy axis.
    Returns the figure."""
    import matplotlib.pyplot as plt

    rows = [r for r in rows if r.get("fps")]
    if not rows:
        raise DeepTrackError("no timed runs to draw: the rows need 'fps'")
    devices = sorted({r["device"] for r in rows})
    fig, (ax, pub) = plt.subplots(1, 2, figsize=figsize, sharey=True, gridspec_kw={"width_ratios": [4, 1]})
    for family, (marker, colour) in FAMILY_STYLE.items():
        mine = [r for r in rows if tracker_family(r["tracker"]) == family]
        if not mine:
            continue
        ax.scatter([r["fps"] for r in mine], [r["success_auc"] for r in mine], marker=marker, c=colour,
                   s=110 if marker == "*" else 45, label=family, zorder=3, edgecolors="k", linewidths=0.4)
        for r in mine:
            ax.annotate(r["tracker"], (r["fps"], r["success_auc"]), fontsize=8, xytext=(4, 3), textcoords="offset points")
    front = sorted((r for r in rows if r["tracker"] in pareto_front(rows)), key=lambda r: r["fps"])
    ax.plot([r["fps"] for r in front], [r["success_auc"] for r in front], c="0.6", lw=1, ls="--", zorder=1,
            label="Pareto front (nothing both faster and better)")
    ax.axvline(real_time, c="tab:green", lw=1)
    ax.text(real_time * 1.08, 0.02, f"{real_time:g} FPS: real time", color="tab:green", fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("frames per second, first frame included (log scale)")
    ax.set_ylabel("success AUC")
    ax.set_ylim(0, max(0.8, max(r["success_auc"] for r in rows) + 0.05))
    ax.set_title(f"ours on {dataset or 'one benchmark'}, measured on {', '.join(devices)}", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(True, which="major", alpha=0.3)
    for i, p in enumerate(published):
        pub.scatter([i], [p.success_auc], marker="P", c="tab:purple", s=80, zorder=3)
        pub.annotate(f"{p.tracker}\n{p.success_auc:.3f}", (i, p.success_auc), fontsize=8, xytext=(0, 8),
                     textcoords="offset points", ha="center")
    pub.set_xlim(-0.7, len(published) - 0.3)
    pub.set_xticks(range(len(published)), [p.tracker for p in published])
    sets = sorted({p.dataset for p in published})
    pub.set_title(f"published (survey, {', '.join(sets)}):\nno speed given", fontsize=10)
    pub.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


__all__ = ["FAMILY_STYLE", "REAL_TIME_FPS", "TRACKER_FAMILIES", "pareto_front", "plot_speed_accuracy", "tracker_family"]
