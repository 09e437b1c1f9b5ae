"""Which trackers a benchmark runs: a label (the results folder's name), a registered tracker and its settings,
read from ``"kcf,dlt-random=dlt:pretrained=false"``, a list or a dict. The one parser for the command line,
the runners and the notebooks."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ..errors import TrackerError


@dataclass(frozen=True)
class TrackerSpec:
    """A tracker to evaluate: its results label (folder name), registry name and parameters."""

    label: str
    name: str
    params: dict = field(default_factory=dict)


def _parse_value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        lowered = text.strip().lower()
        return {"true": True, "false": False, "none": None}.get(lowered, text)


def parse_tracker_spec(text: str) -> TrackerSpec:
    """``"kcf"``, ``"name:key=value:key=value"`` or ``"label=name:key=value..."`` -> :class:`TrackerSpec`.

    Values are Python literals where they parse (``0.5``, ``300``), ``true``/``false``/``none`` in any
    case, and plain strings otherwise (no commas: they separate trackers). E.g. ``dlt-random=dlt:pretrained=false`` (the command line's
    way to run one tracker with two settings side by side)."""
    text = text.strip()
    head, *settings = text.split(":")
    label, _, name = head.partition("=") if "=" in head else (head, "", head)
    params = {}
    for item in settings:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise TrackerError(f"tracker {text!r}: settings are key=value, separated by ':'")
        params[key.strip()] = _parse_value(value)
    if not label.strip() or not name.strip():
        raise TrackerError(f"tracker {text!r}: give a name, optionally label=name, then :key=value settings")
    return TrackerSpec(label.strip().lower(), name.strip().lower(), params)


def tracker_specs(trackers) -> list[TrackerSpec]:
    """Accept ``"kcf,csrt"`` (items as :func:`parse_tracker_spec` reads them, e.g.
    ``"dlt,dlt-random=dlt:pretrained=false"``), a list of such items (``["kcf", "dlt:n_particles=300"]``), or
    ``{label: name | (name, params) | {"name": ..., **params}}``."""
    if isinstance(trackers, str):
        trackers = [parse_tracker_spec(t) for t in trackers.split(",") if t.strip()]
    if isinstance(trackers, TrackerSpec):
        trackers = [trackers]
    specs = []
    if isinstance(trackers, dict):
        for label, spec in trackers.items():
            if isinstance(spec, str):
                specs.append(TrackerSpec(label, spec))
            elif isinstance(spec, tuple) and len(spec) == 2:
                specs.append(TrackerSpec(label, spec[0], dict(spec[1])))
            elif isinstance(spec, dict) and "name" in spec:
                params = {k: v for k, v in spec.items() if k != "name"}
                specs.append(TrackerSpec(label, spec["name"], params))
            else:
                raise TrackerError(f"tracker {label!r}: give a name, (name, params) or {{'name': ..., **params}}")
    else:
        for t in trackers:
            specs.append(t if isinstance(t, TrackerSpec) else parse_tracker_spec(str(t)))
    for s in specs:
        if "seed" in s.params:
            raise TrackerError(f"tracker {s.label!r}: the seed is not a setting; give the runs' seeds as seeds=[...] "
                               "(command line: --seeds 0,1,2)")
    labels = [s.label for s in specs]
    if len(set(labels)) != len(labels):
        raise TrackerError(f"tracker labels must be unique, got {labels}")
    if not specs:
        raise TrackerError("no trackers given")
    return specs


def tracker_labels(text: str | None) -> list[str] | None:
    """``"kcf, DLT"`` -> ``["kcf", "dlt"]``: the labels of trackers whose results are already on disk (the
    command line's ``--trackers`` with ``--rescore``); None for an empty or missing list (every folder found)."""
    labels = [t.strip().lower() for t in (text or "").split(",") if t.strip()]
    return labels or None


__all__ = ["TrackerSpec", "parse_tracker_spec", "tracker_labels", "tracker_specs"]
