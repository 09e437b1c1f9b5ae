"""Evaluation as OTB does it (one-pass evaluation, precision and success plots, per-attribute analysis) and as VOT
does it (resets, accuracy, failures, EAO; long-term precision, recall and F-score).

- ``metrics``: exact metric functions (definitions in their docstrings);
- ``specs``: which trackers a benchmark runs (``"kcf,dlt-random=dlt:pretrained=false"``);
- ``results``: the results folders' layout, reading, writing and reuse (the one module that builds their paths);
- ``runner``: the loop OPE, VOT and presence calibration share: plan jobs, run them, store each result;
- ``ope``: ``run_ope`` runs trackers and stores results in the OTB/got10k layout, ``evaluate_ope`` re-scores any
  results folder;
- ``vot``: ``run_vot`` and ``evaluate_vot``, VOT's supervised protocol with resets, as vot-toolkit 0.9.0 scores it;
- ``longterm``: presence scores and the long-term measures (``evaluate_presence``, ``calibrate_presence``);
- ``report``: ``OPEReport`` with dataset curves, the ranked table, attribute tables and a JSON summary;
- ``plots``: the OTB precision and success plots, per-attribute plots, per-sequence drill-down;
- ``speed``: ``measure_speed``, FPS with and without init and the time per stage from the trackers' timers;
- ``published``: ``SURVEY_RESULTS``, the survey's published scores, with their source;
- ``compare``: ``paired_bootstrap``, the verdict of an ablation (helps, hurts, tie) from a bootstrap interval
  over sequences.
"""
from __future__ import annotations

import importlib

# Loaded when first used, as the package root loads its sub-packages: the command line's --help reads the report's
# columns (report.RANK_BY) without loading the runners, hence torch.
_EXPORTS = {
    **dict.fromkeys(['PairedComparison', 'paired_bootstrap'], "compare"),
    **dict.fromkeys(['LongTermScore', 'long_term_scores', 'presence_thresholds', 'tracking_precision_recall'], "longterm"),
    **dict.fromkeys(['NORMALIZED_PRECISION_THRESHOLDS', 'PRECISION_THRESHOLDS', 'SUCCESS_THRESHOLDS', 'center_error', 'normalized_precision_curve', 'overlap', 'precision_at', 'precision_curve', 'roc_auc', 'sequence_auc', 'success_auc', 'success_curve', 'summarize'], "metrics"),
    **dict.fromkeys(['evaluate', 'evaluate_ope', 'run_ope'], "ope"),
    **dict.fromkeys(['plot_attributes', 'plot_ope', 'plot_overlap_timeline', 'plot_precision', 'plot_success', 'show_worst_frames'], "plots"),
    **dict.fromkeys(['PublishedResult', 'SURVEY_RESULTS'], "published"),
    **dict.fromkeys(['OPEReport'], "report"),
    **dict.fromkeys(['read_result', 'write_result'], "results"),
    **dict.fromkeys(['TrackerSpec', 'parse_tracker_spec', 'tracker_labels', 'tracker_specs'], "specs"),
    **dict.fromkeys(['SpeedReport', 'TrackerSpeed', 'measure_speed'], "speed"),
    **dict.fromkeys(['VOTReport', 'eao_curve', 'eao_interval', 'eao_score', 'evaluate_vot', 'run_supervised', 'run_vot'], "vot"),
}


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = sorted(_EXPORTS)
