"""Issue 39: grading with nbgrader. The release makes notebooks/ from the instructor's notebooks; the grade command
runs nbgrader's autograder on a folder of submissions: the reference solutions score full marks, the released stubs
zero, each named wrong answer and a hard-coded one lose that exercise's point and no other, and a submission that
raises, hangs, has lost cells or is not a notebook is graded with a reason while the others still are.

The end-to-end grading uses a short instructor notebook made of notebook 00's own setup and exercise cells, so that
each submission takes seconds; the grading of every exercise's answer is tested directly on
``dtl.exercises.grade``, which the graded cells' hidden tests call."""
from __future__ import annotations

import copy
import csv
import os
from pathlib import Path

import nbformat
import numpy as np
import pytest

from deeptrack_lite.course import exercises as ex
from instructor import release, solutions

ROOT = Path(__file__).resolve().parents[1]
SEEDS = (2718, 31415)


def test_the_student_edition_in_notebooks_is_what_the_release_makes(tmp_path):
    made = release.generate_student_edition(tmp_path)
    assert sorted(p.name for p in made) == sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    stale = [p.name for p in made if p.read_bytes() != (ROOT / "notebooks" / p.name).read_bytes()]
    assert not stale, f"notebooks/ differs from the release of instructor/notebooks: run python3 make.py release ({stale})"
    # what the release took out: no solution and no hidden test reaches a student
    for path in made:
        text = path.read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "instructor" not in text, path.name


def test_every_exercise_has_a_solution_cell_and_a_graded_cell_in_its_instructor_notebook():
    cells = solutions.solution_cells()
    assert {name: nb for name, (nb, _) in cells.items()} == {name: nb for name, (nb, _) in ex.EXERCISES.items()}
    from instructor.grade import graded_cells

    graded = {}
    for path in sorted(solutions.NOTEBOOKS.glob("*.ipynb")):
        graded.update({name: (path.stem, points) for name, points in graded_cells(path).items()})
    assert graded == {name: (nb, 1.0) for name, (nb, _) in ex.EXERCISES.items()}


@pytest.mark.parametrize("name", list(ex.EXERCISES))
def test_the_graded_test_passes_the_solution_and_fails_a_stub_and_a_hard_coded_answer(name):
    solution = getattr(solutions, name)
    assert "passed" in ex.grade(solution, name, solution, seeds=SEEDS)

    def stub(*args):
        raise NotImplementedError

    with pytest.raises(AssertionError, match="not implemented yet"):
        ex.grade(stub, name, solution, seeds=SEEDS)
    answers = []

    def hard_coded(*args):  # the teaching case's answer, whatever it is asked
        if not answers:
            answers.append(solution(*args))
        return copy.deepcopy(answers[0])

    with pytest.raises(AssertionError):
        ex.grade(hard_coded, name, solution, seeds=SEEDS)


def test_the_named_wrong_answers_lose_their_points():
    wrong = {
        "box_center": lambda b: (b[0] + b[2] / 2, b[1] + b[3] / 2),                       # x + w/2
        "precision_at": lambda e, t: float(np.mean(np.nan_to_num(np.asarray(e), nan=np.inf) < t)),  # < for <=
        "sample_labels": lambda o: np.where(np.asarray(o) > 0.7, 1, np.where(np.asarray(o) < 0.3, 0, -1)),
        "dataset_auc": lambda seqs: float(np.mean(solutions.success_rates(np.concatenate(seqs), np.linspace(0, 1, 21)))),
        "box_deltas": lambda box, t: np.array([(t[0] - box[0]) / box[2], (t[1] - box[1]) / box[3],
                                               np.log(t[2] / box[2]), np.log(t[3] / box[3])]),     # corners
    }
    for name, fn in wrong.items():
        with pytest.raises(AssertionError):
            ex.grade(fn, name, getattr(solutions, name), seeds=SEEDS)


# ------------------------------------------------------------------- the grade command, end to end, with nbgrader
def _short_lab(tmp_path: Path) -> Path:
    """An instructor notebook made of 00's setup cell and its two exercises (solution and graded cells)."""
    nb = nbformat.read(solutions.NOTEBOOKS / "00_welcome.ipynb", as_version=4)
    keep = [nb.cells[1]] + [c for c in nb.cells if "nbgrader" in c.metadata]
    assert len(keep) == 5
    nb.cells = keep
    source = tmp_path / "source"
    source.mkdir()
    nbformat.write(nb, source / "lab.ipynb")
    return source


def _replaced(nb, grade_id: str, source: str):
    nb = copy.deepcopy(nb)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    cell.source = source
    return nb


@pytest.mark.slow
def test_the_grade_command_scores_each_exercise_and_says_why_points_were_lost(tmp_path):
    from instructor.grade import grade_submissions

    source = _short_lab(tmp_path)
    full = nbformat.read(source / "lab.ipynb", as_version=4)
    stub = release.generate_student_edition(tmp_path / "released", source)[0]
    check_center = "\n\ndtl.exercises.check_box_center(box_center)"
    check_precision = "\n\ndtl.exercises.check_precision_at(precision_at)"
    submissions = {
        "ref": full,
        "stub": nbformat.read(stub, as_version=4),
        "half": _replaced(full, "box_center", "def box_center(box):\n    x, y, w, h = box\n    return x + w / 2, y + h / 2"
                          + check_center),
        "copied": _replaced(full, "precision_at", "def precision_at(center_errors, threshold):\n    return 4 / 7"
                            + check_precision),
        # one exercise raises, the other's cell never ends
        "broken": _replaced(_replaced(full, "box_center", "def box_center(box):\n    raise ValueError('oops')" + check_center),
                            "precision_at", "while True:\n    pass"),
        "erased": copy.deepcopy(full),
    }
    erased = submissions["erased"]
    erased.cells = [c for c in erased.cells if not c.metadata.get("nbgrader", {}).get("grade")]  # graded cells gone
    folder = tmp_path / "submitted"
    for student, nb in submissions.items():
        (folder / student).mkdir(parents=True)
        nbformat.write(nb, folder / student / "lab.ipynb")
    (folder / "corrupt").mkdir()
    (folder / "corrupt" / "lab.ipynb").write_text('{"cells": [', encoding="utf-8")

    out = tmp_path / "grades"
    results = grade_submissions(folder, out, source=source, cell_timeout=5, notebook_limit=120, progress=lambda s: None)
    scores = {row["student"]: row for row in csv.DictReader(open(out / "scores.csv", encoding="utf-8"))}
    points = {s: (row["box_center"], row["precision_at"]) for s, row in scores.items()}
    assert points == {"ref": ("1", "1"), "stub": ("0", "0"), "half": ("0", "1"), "copied": ("1", "0"),
                      "broken": ("0", "0"), "erased": ("1", "1"), "corrupt": ("0", "0")}
    reasons = {(row["student"], row["exercise"]): row["reason"]
               for row in csv.DictReader(open(out / "reasons.csv", encoding="utf-8"))}
    assert set(reasons) == {("stub", "box_center"), ("stub", "precision_at"), ("half", "box_center"),
                            ("copied", "precision_at"), ("broken", "box_center"), ("broken", "precision_at"),
                            ("corrupt", "box_center"), ("corrupt", "precision_at")}
    assert "not implemented yet" in reasons["stub", "box_center"]
    assert "x + w/2" in reasons["half", "box_center"]
    assert "right on the example above, but not on" in reasons["copied", "precision_at"]
    assert "raised ValueError: oops" in reasons["broken", "box_center"]
    assert "its exercise cell failed (ran past the 5 s limit for one cell)" in reasons["broken", "precision_at"]
    assert reasons["corrupt", "box_center"].startswith("not a valid notebook")
    # nbgrader's own export for an LMS, a row per student
    exported = list(csv.DictReader(open(out / "nbgrader_grades.csv", encoding="utf-8")))
    assert {row["student_id"]: float(row["score"]) for row in exported}["ref"] == 2.0
    assert len(results) == 7


@pytest.mark.slow
def test_a_submission_past_the_notebook_limit_scores_zero_and_leaves_no_kernel_behind(tmp_path, monkeypatch, capsys):
    """Through the command line, with paths relative to where it is run."""
    from instructor.grade import main

    source = _short_lab(tmp_path)
    stuck = nbformat.read(source / "lab.ipynb", as_version=4)
    stuck.cells.insert(1, nbformat.v4.new_code_cell("import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                                    "time.sleep(600)  # deaf to the interrupt a cell timeout sends"))
    (tmp_path / "submitted" / "stuck").mkdir(parents=True)
    nbformat.write(stuck, tmp_path / "submitted" / "stuck" / "lab.ipynb")
    monkeypatch.chdir(tmp_path)
    assert main(["submitted", "--out", "grades", "--source", "source", "--notebook-limit", "8"]) == 0
    assert "stuck/lab: 0 of 2 points" in capsys.readouterr().out
    rows = list(csv.DictReader(open(tmp_path / "grades" / "reasons.csv", encoding="utf-8")))
    assert {(r["exercise"], r["points"], r["reason"]) for r in rows} == {
        ("box_center", "0", "ran past the 8 s limit for a notebook"),
        ("precision_at", "0", "ran past the 8 s limit for a notebook")}
    assert (tmp_path / "grades" / "nbgrader_grades.csv").is_file()
    assert not _processes_in(tmp_path), "a grading process or its kernel outlived the submission"


def _processes_in(folder: Path) -> list[int]:
    """The processes whose working directory lies in ``folder`` (a kernel runs in its notebook's folder)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and int(proc.name) != os.getpid() and Path(os.readlink(proc / "cwd")).is_relative_to(folder):
                found.append(int(proc.name))
        except OSError:
            continue
    return found
