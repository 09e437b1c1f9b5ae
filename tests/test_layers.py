"""The layout tells the architecture: every module imports only from its own layer or the layers below it, and
never a ``_private`` name of another sub-package. Checked by reading every import statement of the package
(module level and inside functions) with ``ast``."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

import deeptrack_lite

ROOT = Path(deeptrack_lite.__file__).parent

# Lowest first. A module may import from its own layer and the layers before it, never from a later one.
LAYERS = [
    {"errors", "version", "fingerprint", "dependencies"},
    {"boxes", "images", "runtime", "cpus", "fileio", "outputs", "crops", "jobs"},
    {"data"},
    {"features", "viz"},
    {"models", "motion"},
    {"online"},
    {"training"},
    {"trackers"},
    {"evaluation"},
    {"cli", "__main__"},
    {"course"},
]
LAYER_OF = {name: i for i, names in enumerate(LAYERS) for name in names}


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts == ("__init__",):
            continue  # the package root re-exports the layers lazily: it sits above all of them
        package = parts[:-1] if parts[-1] == "__init__" else parts[:-1]
        yield path, parts, package


def _imports(path, parts, package):
    """(line, imported module parts within deeptrack_lite, imported names) for every import of the package."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package)[: len(package) - (node.level - 1)] if node.level > 1 else list(package)
                target = base + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == "deeptrack_lite":
                target = node.module.split(".")[1:]
            else:
                continue
            names = [a.name for a in node.names]
            if not node.module and node.level:  # from . import x, y: each name is a module
                for name in names:
                    yield node.lineno, target + [name], []
            else:
                yield node.lineno, target, names
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "deeptrack_lite":
                    yield node.lineno, alias.name.split(".")[1:], []


def test_every_top_level_module_has_a_layer():
    tops = {parts[0] for _, parts, _ in _modules()}
    assert tops <= set(LAYER_OF), f"give these a layer: {sorted(tops - set(LAYER_OF))}"


def test_no_module_imports_from_a_higher_layer():
    upward = []
    for path, parts, package in _modules():
        mine = LAYER_OF[parts[0]]
        for line, target, _ in _imports(path, parts, package):
            if not target:
                upward.append(f"{path.relative_to(ROOT)}:{line} imports the package root")
                continue
            theirs = LAYER_OF.get(target[0])
            if theirs is not None and theirs > mine:
                upward.append(f"{path.relative_to(ROOT)}:{line} ({parts[0]}, layer {mine}) imports "
                              f"{'.'.join(target)} (layer {theirs})")
    assert not upward, "\n".join(upward)


def test_no_private_name_is_imported_from_another_sub_package():
    private = []
    for path, parts, package in _modules():
        for line, target, names in _imports(path, parts, package):
            if target and target[0] != parts[0]:
                hidden = [n for n in names if n.startswith("_") and not n.startswith("__")]
                hidden += [p for p in target if p.startswith("_") and not p.startswith("__")]
                if hidden:
                    private.append(f"{path.relative_to(ROOT)}:{line} imports {', '.join(hidden)} from {'.'.join(target)}")
    assert not private, "\n".join(private)


def test_the_checks_catch_what_they_should(tmp_path):
    """The import walker sees relative imports inside functions and resolves them to their sub-package."""
    f = tmp_path / "m.py"
    f.write_text("def g():\n    from ..data.synthetic import _x\n    from . import base\n")
    got = list(_imports(f, ("trackers", "m"), ("trackers",)))
    assert got == [(2, ["data", "synthetic"], ["_x"]), (3, ["trackers", "base"], [])]


@pytest.mark.slow
def test_importing_a_tracker_loads_neither_trainer_nor_course_code():
    code = ("import sys, deeptrack_lite.trackers.dlt, deeptrack_lite.trackers.mdnet\n"
            "print(sorted(m for m in sys.modules if m.startswith(('deeptrack_lite.training', 'deeptrack_lite.course'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_the_command_line_help_starts_without_torch():
    code = ("import sys\nfrom deeptrack_lite.cli import build_parser\nbuild_parser().format_help()\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# the results layout's names (evaluation/results.py owns them): a path joined with one of these elsewhere is a
# second owner of the layout
_LAYOUT_PARTS = {"info", "scores", "times", "baseline"}


def _layout_join(node) -> bool:
    """A ``path / part`` that builds a results path: a layout folder, a results file name, ``seed<k>``, or a
    tracker's label."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)):
        return False
    part = node.right
    if isinstance(part, ast.Constant) and isinstance(part.value, str):
        return part.value in _LAYOUT_PARTS
    if isinstance(part, ast.JoinedStr):
        text = "".join(v.value for v in part.values if isinstance(v, ast.Constant))
        return text.startswith("seed") or text.endswith(("_time.txt", "_score.txt", "_info.json")) or text == ".txt"
    return isinstance(part, ast.Attribute) and part.attr == "label" or isinstance(part, ast.Name) and part.id == "label"


def test_only_the_results_module_builds_results_paths():
    owner = ROOT / "evaluation" / "results.py"
    by_hand = []
    for path, _, _ in _modules():
        if path == owner:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if _layout_join(node):
                by_hand.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert not by_hand, ("build results paths with deeptrack_lite.evaluation.results (run_dir, result_path, "
                         "trajectory_path, ...):\n" + "\n".join(by_hand))


def test_the_results_path_check_catches_a_path_built_by_hand():
    for text in ['Path(d) / spec.label', 'run_dir / "info" / name', 'base / f"seed{seed}"',
                 'folder / f"{seq.name}_score.txt"', 'd / label / "baseline"']:
        assert any(_layout_join(n) for n in ast.walk(ast.parse(text))), text
    assert not any(_layout_join(n) for n in ast.walk(ast.parse('root / "list.txt"')))


def test_every_name_the_evaluation_package_lists_loads():
    import deeptrack_lite.evaluation as evaluation

    missing = [name for name in evaluation.__all__ if getattr(evaluation, name, None) is None]
    assert not missing and "evaluate_ope" in dir(evaluation)
