"""Evaluation as OTB does it (one-pass evaluation, precision and success plots, per-attribute analysis) and as VOT
does it (resets, accuracy, failures, EAO; long-term precision, recall and F-score).

- ``metrics``: exact metric functions (definitions in their docstrings);
- ``ope``: ``run_ope`` runs trackers and stores results in the OTB/got10k layout, ``evaluate`` re-scores any
  results folder;
- ``report``: ``OPEReport`` with dataset curves, the ranked table, attribute tables and a JSON summary;
- ``plots``: the OTB precision and success plots, per-attribute plots, per-sequence drill-down;
- ``speed``: ``measure_speed``, FPS with and without init and the time per stage from the trackers' timers;
- ``published``: ``SURVEY_RESULTS``, the survey's published scores, with their source;
- ``compare``: ``paired_bootstrap``, the verdict of an ablation (helps, hurts, tie) from a bootstrap interval
  over sequences.
"""
from .compare import PairedComparison, paired_bootstrap
from .metrics import (NORMALIZED_PRECISION_THRESHOLDS, PRECISION_THRESHOLDS, SUCCESS_THRESHOLDS, center_error,
                      normalized_precision_curve, overlap, precision_at, precision_curve, roc_auc, sequence_auc,
                      success_auc, success_curve, summarize)
from .ope import TrackerSpec, evaluate, parse_tracker_spec, read_result, run_ope, tracker_specs, write_result
from .plots import plot_attributes, plot_ope, plot_overlap_timeline, plot_precision, plot_success, show_worst_frames
from .published import SURVEY_RESULTS, PublishedResult
from .report import OPEReport
from .speed import SpeedReport, TrackerSpeed, measure_speed
from .longterm import LongTermScore, long_term_scores, presence_thresholds, tracking_precision_recall
from .vot import VOTReport, eao_curve, eao_interval, eao_score, evaluate_vot, run_supervised, run_vot

__all__ = ["PublishedResult", "SURVEY_RESULTS", "LongTermScore", "long_term_scores", "presence_thresholds", "tracking_precision_recall", "VOTReport", "eao_curve", "eao_interval", "eao_score", "evaluate_vot", "run_supervised", "run_vot", "NORMALIZED_PRECISION_THRESHOLDS", "OPEReport", "PairedComparison", "paired_bootstrap", "PRECISION_THRESHOLDS", "SUCCESS_THRESHOLDS", "TrackerSpec",
           "center_error", "evaluate", "normalized_precision_curve", "overlap", "plot_attributes", "plot_ope",
           "plot_overlap_timeline", "plot_precision", "plot_success", "precision_at", "precision_curve",
           "read_result", "roc_auc", "run_ope", "sequence_auc", "SpeedReport", "TrackerSpeed", "measure_speed", "show_worst_frames", "success_auc", "success_curve", "summarize",
           "parse_tracker_spec", "tracker_specs", "write_result"]
