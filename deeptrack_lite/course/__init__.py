"""Course-only code, on top of the library: the exercises' automatic checks (``exercises``; the reference
solutions they were recorded from are the instructor's, in the repository's ``instructor/``), the measurements behind notebook 04's three observations on CNN
feature maps (``fcnt_analysis``), the separability measures behind notebook 05 (``representation``) and the
notebooks' ablation studies with their shipped full-mode results (``studies``), notebook 06's benchmark runs,
shipped so that a lab session need not wait for them (``benchmark_runs``), and notebook 07's speed/accuracy map
(``speed_accuracy``), the notebooks' small live runs of one tracker or a study's settings (``live``), a student's
exercise function run inside the real tracker (``plug_in``), and where the notebooks keep their runs between sessions (``cache.results_cache``, per
user). The library layers never import
this package; notebooks do (``dtl.exercises`` is ``dtl.course.exercises``)."""
from . import (benchmark_runs, cache, exercises, fcnt_analysis, live, plug_in, representation, speed_accuracy, studies)

from .cache import results_cache
from .live import live_study, live_study_table, run_and_score
from .plug_in import compare_plugged_in, plugged_in

__all__ = ["benchmark_runs", "cache", "compare_plugged_in", "exercises", "fcnt_analysis", "live", "live_study",
           "live_study_table", "plug_in", "plugged_in", "representation", "run_and_score", "results_cache",
           "speed_accuracy", "studies"]
