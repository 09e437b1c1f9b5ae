"""What the package imports is what pyproject.toml declares, and the other way round."""
import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
tomllib = pytest.importorskip("tomllib")

# imports that only some users need, and the extra that installs them (cv2: see deeptrack_lite/dependencies.py)
OPTIONAL = {"cv2": "opencv", "dask": "cluster", "distributed": "cluster",
            "nbclient": "test", "nbformat": "test"}  # nbclient/nbformat: course.timing, the instructors' notebook timer


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[@]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _third_party_imports() -> dict[str, set[str]]:
    found = {}
    for path in sorted((ROOT / "deeptrack_lite").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "deeptrack_lite":
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_import_is_declared_and_every_dependency_imported():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    required = {_name(r) for r in project["dependencies"]}
    extras = {extra: {_name(r) for r in reqs} for extra, reqs in project["optional-dependencies"].items()}
    distributions = packages_distributions()
    imported = set()
    for module, files in _third_party_imports().items():
        names = {_name(d) for d in distributions.get(module, [])}
        assert names, f"{module} (imported in {sorted(files)[0]}) is not installed here"
        imported |= names
        if module in OPTIONAL:
            assert names & extras[OPTIONAL[module]], f"{module}: declare it in the {OPTIONAL[module]!r} extra"
            assert not names & required, f"{module} is meant to be optional"
        else:
            assert names & required, f"{module} is imported in {sorted(files)} but not in [project] dependencies"
    unused = required - imported
    assert not unused, f"declared but never imported: {sorted(unused)}"


def test_the_ranges_keep_untested_majors_out_and_lab_pins_inside_them():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    opencv = project["optional-dependencies"]["opencv"]
    assert any(r.startswith("opencv-contrib-python-headless") and "<5" in r for r in opencv), "OpenCV 5.x is untested"
    from packaging.requirements import Requirement

    ranges = {Requirement(r).name.lower(): Requirement(r).specifier
              for r in project["dependencies"] + opencv}
    for pin in project["optional-dependencies"]["lab"]:
        req = Requirement(pin)
        version = str(next(iter(req.specifier)).version)
        if req.name.lower() in ranges:
            assert version in ranges[req.name.lower()], f"the lab pin {pin} is outside the declared range"
