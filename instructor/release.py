"""``python3 make.py release``: regenerate the student-facing files that come from the instructor's material.

Today that is ``deeptrack_lite/course/exercise_answers.json``: each check's varied cases at seed 0 (the ones a
student's notebook meets) with the answers of the reference solutions in :mod:`instructor.solutions`. The package
compares a student's function with these answers, so the solutions themselves never ship. A test fails when the
file differs from what this writes.
"""
from __future__ import annotations

import argparse
import inspect
import sys

from deeptrack_lite.course import exercises

from . import solutions


def recorded_answers() -> dict:
    """{exercise: [the reference solution's answer to each varied case, in the order its check asks]}: each check
    is run on its own solution, with a reference that records what it returns."""
    answers = {}
    for name, (_, check) in exercises.EXERCISES.items():
        if "reference" not in inspect.signature(check).parameters:
            continue  # a check on its teaching cases only: nothing to record
        solution, seen = getattr(solutions, name), []

        def recording(*args, _solution=solution, _seen=seen):
            _seen.append(_solution(*args))
            return _seen[-1]

        result = check(solution, seed=0, reference=recording)
        if not result.passed:
            raise SystemExit(f"the reference solution {name} fails its own check: {result}")
        answers[name] = seen
    return answers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 make.py release", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether the files are up to date")
    args = parser.parse_args(argv)
    answers = recorded_answers()
    text, path = exercises.encode_answers(answers), exercises.ANSWERS_FILE
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        print(f"{path.name}: up to date")
        return 0
    if args.check:
        print(f"{path.name}: differs from what the instructor's solutions give; run python3 make.py release")
        return 1
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path} ({sum(map(len, answers.values()))} answers to {len(answers)} checks' varied cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
