"""Evaluation as OTB does it: one-pass precision and success curves and their summary scores."""
from .metrics import (NORMALIZED_PRECISION_THRESHOLDS, PRECISION_THRESHOLDS, SUCCESS_THRESHOLDS, center_error,
                      normalized_precision_curve, overlap, precision_at, precision_curve, success_auc, success_curve,
                      summarize)

__all__ = ["NORMALIZED_PRECISION_THRESHOLDS", "PRECISION_THRESHOLDS", "SUCCESS_THRESHOLDS", "center_error",
           "normalized_precision_curve", "overlap", "precision_at", "precision_curve", "success_auc",
           "success_curve", "summarize"]
