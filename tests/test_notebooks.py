"""Every course notebook runs top to bottom in fast mode, and is committed without outputs."""
import json
import os
import time
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def polling_client(nb, **kwargs):
    """An nbclient NotebookClient that waits for each cell's reply in 1-second polls.

    With widget traffic on the channels, a single long ``get_msg(timeout=...)`` sometimes misses the
    execute reply and sits out the whole cell timeout (jupyter/nbclient#312); polling again finds it.
    """
    from queue import Empty
    from time import monotonic

    from nbclient import NotebookClient

    class PollingClient(NotebookClient):
        async def async_start_new_kernel_client(self):
            kc = await super().async_start_new_kernel_client()
            channel = kc.shell_channel
            original = channel.get_msg

            async def get_msg(timeout=None):
                deadline = None if timeout is None else monotonic() + timeout
                while True:
                    step = 1.0 if deadline is None else max(0.0, min(1.0, deadline - monotonic()))
                    try:
                        return await original(timeout=step)
                    except Empty:
                        if deadline is not None and monotonic() >= deadline:
                            raise

            channel.get_msg = get_msg
            return kc

    return PollingClient(nb, **kwargs)


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
        assert {"fast", "full"} <= set(record["notebooks"][name]), f"{name}: measure both modes"
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
