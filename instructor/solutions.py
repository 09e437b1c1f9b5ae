"""The reference solutions, read from the instructor's notebooks (``instructor/notebooks``), where each exercise
cell carries its solution inline between nbgrader's ``### BEGIN SOLUTION`` and ``### END SOLUTION`` markers: one
source of truth, outside the installed package, so that a student's ``import deeptrack_lite`` cannot reach it.

Each solution is the exercise cell's function, run here as the notebook runs it (with ``np`` in scope), under the
name and signature the student edition asks for. ``deeptrack_lite.course.exercises.EXERCISES`` names each
exercise's check; :func:`check_all` runs every check on its solution (the tests require all of them to pass), and
``python3 make.py release`` records these solutions' answers to the checks' varied cases, which is what a student's
notebook is compared with. The autograder's hidden tests import them from here.

    from instructor import solutions          # from the repository's root
    solutions.check_all()                     # every check on its reference solution, the recorded answers
    solutions.check_all(seed=7)               # ... on cases the notebooks never show (what a grader draws)
    solutions.show("taylor_significance")     # print a solution
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from deeptrack_lite.course.exercises import EXERCISES, run_check

NOTEBOOKS = Path(__file__).resolve().with_name("notebooks")
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def solution_cells(folder: Path = NOTEBOOKS) -> dict:
    """{exercise: (notebook stem, the solution cell's function source, markers removed)}."""
    found = {}
    for path in sorted(folder.glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if grade_id in EXERCISES and cell["metadata"]["nbgrader"].get("solution"):
                source = "".join(cell["source"]).split("\ndtl.exercises.check_")[0]
                found[grade_id] = (path.stem, "\n".join(line for line in source.rstrip().split("\n")
                                                        if line.strip() not in MARKERS) + "\n")
    return found


def _load() -> dict:
    """The solutions as functions; one namespace per notebook, as in the notebook (06's ``dataset_auc`` calls the
    ``success_rates`` defined above it)."""
    functions, namespaces = {}, {}
    for name, (notebook, source) in solution_cells().items():
        namespace = namespaces.setdefault(notebook, {"np": np})
        exec(compile(source, f"<instructor solution {name}>", "exec"), namespace)
        functions[name] = namespace[name]
    return functions


_SOLUTIONS = _load()
globals().update(_SOLUTIONS)


def check_all(seed: int = 0) -> dict:
    """{solution name: CheckResult} for every exercise, each check run on its reference solution: against the
    answers the package records (seed 0), or, for another seed, on freshly drawn cases against the solution itself
    (the checks without varied cases take no seed)."""
    return {name: run_check(name, solution, seed=seed, reference=solution if seed else None)
            for name, solution in _SOLUTIONS.items()}


def show(name: str) -> None:
    """Print one solution, as its instructor notebook has it."""
    if name not in EXERCISES:
        from deeptrack_lite.errors import DeepTrackError

        raise DeepTrackError(f"no exercise called {name!r}; the exercises are: {', '.join(EXERCISES)}")
    print(solution_cells()[name][1])


__all__ = list(EXERCISES) + ["check_all", "show", "solution_cells"]
