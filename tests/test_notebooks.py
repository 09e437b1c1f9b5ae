"""Every course notebook runs top to bottom in fast mode, and is committed without outputs."""
import json
import os
import time
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def polling_client(nb, **kwargs):
    from deeptrack_lite.course.timing import polling_client as client  # one copy: the timer uses it too

    return client(nb, **kwargs)


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_clean(path):
    nb = json.loads(path.read_text())
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; clear them before committing"


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_in_fast_mode(path, monkeypatch, tmp_path):
    import nbformat

    monkeypatch.setenv("DEEPTRACK_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    polling_client(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    elapsed = time.perf_counter() - start
    print(f"{path.name}: {elapsed:.1f} s in fast mode")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors


def test_timing_figures_in_the_notebooks_and_readme_match_the_record():
    """The measured times a reader sees come from notebooks/timings.json (python -m deeptrack_lite.course.timing)."""
    from deeptrack_lite.course import timing

    record = json.loads(timing.RECORD.read_text())
    assert sorted(record["notebooks"]) == sorted(p.stem for p in NOTEBOOKS), "every notebook needs measured times"
    for name, (header, comments) in timing.expected_text(record).items():
        assert "fast" in record["notebooks"][name], f"{name}: measure it (python -m deeptrack_lite.course.timing)"
        nb = json.loads((NOTEBOOKS[0].parent / f"{name}.ipynb").read_text())
        assert header in "".join(nb["cells"][0]["source"]), f"{name}: header out of date; run timing --write"
        for cell in nb["cells"]:
            src = "".join(cell["source"])
            if cell["cell_type"] == "code" and cell.get("id") in comments:
                assert src.startswith(comments[cell["id"]] + "\n"), f"{name}: cell {cell['id']} must state its time"
            elif cell["cell_type"] == "code":
                assert not src.startswith(timing.CELL_MARK), f"{name}: cell {cell['id']} states a time it was not measured to take"
    readme = timing.README.read_text()
    assert timing.readme_table(record) in readme, "README's notebook timings are out of date; run timing --write"


@pytest.mark.slow
def test_writing_the_timings_twice_changes_nothing(tmp_path, monkeypatch):
    """timing --write replaces the header and the slow-cell comments; it must not pile up blank lines."""
    import shutil

    from deeptrack_lite.course import timing

    notebooks = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS[0].parent, notebooks)
    shutil.copy(timing.README, tmp_path / "README.md")
    monkeypatch.setattr(timing, "NOTEBOOKS", notebooks)
    monkeypatch.setattr(timing, "README", tmp_path / "README.md")
    record = json.loads(timing.RECORD.read_text())
    timing.write(record)
    once = {p.name: p.read_text() for p in notebooks.glob("*.ipynb")}
    timing.write(record)
    assert {p.name: p.read_text() for p in notebooks.glob("*.ipynb")} == once
    assert all("\n\n\n" not in "".join(json.loads(t)["cells"][0]["source"]) for t in once.values())


# Numbers a notebook's prose may state, each with where it comes from. Any other measured-looking number in a
# markdown cell fails the test: the prose must point at the figure a cell prints instead (a sentence that a later
# change makes false is a bug). "data/README.md" means the number must appear there, next to its command.
PROSE_NUMBERS = {
    ("00_welcome", "30 frames per second"): "an illustration of units, not a measurement",
    ("02_motion_models", "50%"): "a setting (resample when ESS < 50% of N)",
    ("03_dlt", "0.05"): "a setting (the sparsity target rho)",
    ("03_dlt", "0.261"): "data/README.md",
    ("03_dlt", "57 s"): "data/README.md",
    ("03_dlt", "0.258"): "data/README.md",
    ("03_dlt", "10 s"): "data/README.md",
    ("03_dlt", "30%"): "a setting (the masking level shown)",
    ("03_dlt", "5%"): "a setting (sodlt's scale_steps: 1/1.05, 1, 1.05)",
    ("03_dlt", "17%"): "derived: IoU >= 0.7 allows a sideways shift s with (1 - s)/(1 + s) >= 0.7",
    ("03_dlt", "95%"): "a setting (the interval's level)",
    ("04_fcnt", "95%"): "a setting (the interval's level)",
    ("04_fcnt", "1.05"): "a setting (fcnt's scale_step that turns the size readout on)",
    ("05_mdnet", "0.75"): "derived: a line through a ring keeps the blob and half the ring",
    ("05_mdnet", "95%"): "a setting (the interval's level)",
    ("06_evaluation", "0.856"): "published (survey, Figure 4)",
    ("06_evaluation", "0.599"): "published (survey, Figure 4)",
    ("06_evaluation", "0.942"): "published (survey, section II.B.2)",
    ("06_evaluation", "0.702"): "published (survey, section II.B.2)",
}
MEASURED_LOOKING = r"(?<![\w.])\d+(\.\d+)?\s?(%|x faster|FPS|fps| s\b| min\b|frames per second)|(?<![\w.])\d\.\d{2,}"


def test_prose_states_no_number_a_cell_should_compute():
    import re

    from deeptrack_lite.course import timing

    readme = (NOTEBOOKS[0].parents[1] / "data" / "README.md").read_text()
    found = set()
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            text = "".join(cell["source"])
            if cell["cell_type"] != "markdown":
                continue
            text = re.sub(re.escape(timing.HEADER_MARK) + r"\n[^\n]*", "", text)  # the measured timing line
            for m in re.finditer(MEASURED_LOOKING, text):
                key = (path.stem, m.group(0))
                assert key in PROSE_NUMBERS, (f"{path.name}, cell {cell.get('id')}: the prose states {m.group(0)!r}; "
                                              "print it from a cell and refer to it, or list its source in PROSE_NUMBERS")
                found.add(key)
    for key, source in PROSE_NUMBERS.items():
        if source == "data/README.md":
            assert key[1] in readme, f"{key}: not in data/README.md"
    assert found == set(PROSE_NUMBERS), f"listed but no longer in the prose: {set(PROSE_NUMBERS) - found}"
