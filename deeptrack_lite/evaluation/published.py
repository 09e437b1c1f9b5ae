"""Published results the notebooks put beside their own: numbers as their source prints them, with the source.

Published scores come from other data (real videos, the authors' networks, their machines), so they are shown as
a separate group, never ranked against runs made here (notebook 06, section 7; notebook 07's speed/accuracy map).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PublishedResult:
    """One tracker's published OPE scores. ``fps`` is None when the source gives no speed."""

    tracker: str
    dataset: str
    precision_20px: float
    success_auc: float
    source: str
    fps: float | None = None


#: What the survey reports (OTB-50, one-pass evaluation): FCNT in section II.B.1 and Figure 4, MDNet in II.B.2.
#: The survey gives no speeds.
SURVEY_RESULTS = (
    PublishedResult("FCNT", "OTB-50", 0.856, 0.599, "survey, section II.B.1 and Figure 4"),
    PublishedResult("MDNet", "OTB-50", 0.942, 0.702, "survey, section II.B.2"),
)

__all__ = ["PublishedResult", "SURVEY_RESULTS"]
