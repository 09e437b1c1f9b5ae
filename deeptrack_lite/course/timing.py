"""How long each notebook takes, and how much memory, so that students and instructors can plan a session.

``python -m deeptrack_lite.course.timing --mode fast --mode full`` runs every notebook top to bottom in a
fresh kernel, once per mode, and records in ``notebooks/timings.json``:

- the wall time of the whole notebook and of every cell that took over :data:`SLOW_CELL` seconds;
- the kernel's peak resident memory (Linux ``VmHWM``);
- the machine (CPU count, device), the thread count, the command, the date, and whether the notebooks' results
  cache (``course.cache.results_cache()``, under the data folder) was emptied first (``--cold``, the default: the time a student
  sees the first time).

``--write`` then puts the figures where readers see them: a timing line in each notebook's first cell, a
comment on each slow cell, and the README's notebook table. A test checks that those three agree with
``timings.json``, so a number cannot be edited by hand without the record. Measure on a quiet machine: two
torch processes on two cores slow each other down several times.
"""
from __future__ import annotations

import json
import os
import platform
import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from .cache import clear_results_cache

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
# the instructor's edition, which notebooks/ is released from (instructor/release.py): both get the same headers
INSTRUCTOR_NOTEBOOKS = ROOT / "instructor" / "notebooks"
RECORD = NOTEBOOKS / "timings.json"
README = ROOT / "README.md"
SLOW_CELL = 30.0  # seconds: cells slower than this say so
HEADER_MARK = "<!-- timings: written by python -m deeptrack_lite.course.timing --write -->"
CELL_MARK = "# time:"
TARGETS = {"full_seconds": 300, "fast_seconds": 60, "peak_mb": 2048}  # a lab session on Binder


def _peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def polling(client_class):
    """A subclass of an nbclient ``NotebookClient`` class (nbgrader's executor is one) that waits for each cell's
    reply in 1-second polls.

    With widget traffic on the channels, a single long ``get_msg(timeout=...)`` sometimes misses the execute
    reply and sits out the whole cell timeout (jupyter/nbclient#312); polling again finds it."""
    from queue import Empty
    from time import monotonic

    class Polling(client_class):
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

    Polling.__name__ = Polling.__qualname__ = "Polling" + client_class.__name__
    return Polling


def polling_client(nb, **kwargs):
    """An nbclient ``NotebookClient`` that waits for each cell's reply in 1-second polls (see :func:`polling`)."""
    from nbclient import NotebookClient

    return polling(NotebookClient)(nb, **kwargs)


def time_notebook(path: Path, fast: bool, timeout: int = 1800) -> dict:
    """Run one notebook in a fresh kernel; returns seconds, peak_mb and {cell id: seconds} of slow cells."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    env_before = os.environ.get("DEEPTRACK_FAST")
    os.environ["DEEPTRACK_FAST"] = "1" if fast else "0"
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    cells, peak, started = {}, [None], {}

    def on_cell_start(cell, cell_index):
        started[cell_index] = time.perf_counter()

    def on_cell_executed(cell, cell_index, execute_reply):
        seconds = time.perf_counter() - started.get(cell_index, time.perf_counter())
        if seconds > SLOW_CELL:
            cells[cell.get("id", str(cell_index))] = round(seconds, 1)
        # the kernel's peak resident memory so far (VmHWM only grows): read while the kernel is alive
        peak[0] = _peak_rss_mb(client.km.provisioner.process.pid) or peak[0]

    # execute() as the tests run it: one event loop for the whole notebook (cell-by-cell sync calls can
    # miss replies on a kernel with widget traffic)
    client = polling_client(nb, timeout=timeout, kernel_name="python3", on_cell_start=on_cell_start,
                            on_cell_executed=on_cell_executed, resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        client.execute()
    finally:
        if env_before is None:
            os.environ.pop("DEEPTRACK_FAST", None)
        else:
            os.environ["DEEPTRACK_FAST"] = env_before
    peak = peak[0]
    return {"seconds": round(time.perf_counter() - start, 1), "peak_mb": None if peak is None else round(peak),
            "slow_cells": cells}


def machine() -> str:
    import torch

    from ..runtime import device, device_name

    return f"{device_name(device())}, {torch.get_num_threads()} torch threads, Python {platform.python_version()}"


def measure(names, modes, cold: bool = True) -> dict:
    """Time the named notebooks (stems) in each mode; merges into :data:`RECORD` and returns the record."""
    record = json.loads(RECORD.read_text()) if RECORD.is_file() else {"notebooks": {}}
    for mode in modes:
        for name in names:
            if cold:
                clear_results_cache()
            try:
                result = time_notebook(NOTEBOOKS / f"{name}.ipynb", fast=(mode == "fast"))
            except Exception as exc:  # a failing cell: report it, time the other notebooks
                print(f"{name} ({mode}) FAILED, not recorded: {type(exc).__name__}: {str(exc)[-2000:]}", flush=True)
                continue
            result.update(measured=datetime.now(timezone.utc).strftime("%Y-%m-%d"), cold_cache=cold, machine=machine())
            record["notebooks"].setdefault(name, {})[mode] = result
            print(f"{name} ({mode}): {result['seconds']:.0f} s, peak {result['peak_mb']} MB, "
                  f"slow cells {result['slow_cells']}", flush=True)
            RECORD.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    return record


# ----------------------------------------------------------------------------------- the figures in the text
def duration(seconds: float) -> str:
    """``95`` -> ``"1 min 35 s"``, ``42`` -> ``"42 s"``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min" if seconds % 60 == 0 and seconds >= 300 else f"{seconds // 60} min {seconds % 60:02d} s"


def header_line(entry: dict) -> str:
    """The timing sentence of a notebook's first cell, from its record."""
    parts = []
    for mode in ("full", "fast"):
        if mode in entry:
            e = entry[mode]
            parts.append(f"{mode} mode {duration(e['seconds'])}" + (f", peak memory {e['peak_mb']} MB" if e["peak_mb"] else ""))
        else:
            parts.append(f"{mode} mode not measured yet")
    where = next(iter(entry.values()))["machine"]
    return (f"{HEADER_MARK}\n**Time to run** (measured on {where}, results cache empty): " + "; ".join(parts)
            + ". Cells that take longer than 30 s say so in their first line.")


def cell_comment(seconds: float, mode: str = "full") -> str:
    return f"{CELL_MARK} about {duration(seconds)} in {mode} mode on the machine in the header"


def expected_text(record: dict) -> dict:
    """{notebook stem: (header line, {cell id: comment})}: what the notebooks must say. Slow cells are those
    of the full-mode run, or of the fast-mode run while full mode is not measured yet."""
    out = {}
    for name, entry in record["notebooks"].items():
        mode = "full" if "full" in entry else "fast"
        slow = dict(entry.get(mode, {}).get("slow_cells", {}))
        out[name] = (header_line(entry), {cid: cell_comment(s, mode) for cid, s in slow.items()})
    return out


def readme_table(record: dict) -> str:
    def cell(e, key, target):
        if e is None:
            return "not measured yet"
        over = e["seconds"] > TARGETS[target]
        return duration(e["seconds"]) + (f" (over the {duration(TARGETS[target])} target)" if over else "")

    rows = ["| notebook | full mode | fast mode (tests) | peak memory |", "|---|---|---|---|"]
    for name, entry in sorted(record["notebooks"].items()):
        peak = max((e["peak_mb"] or 0) for e in entry.values())
        flag = f" (over the {TARGETS['peak_mb']} MB target)" if peak > TARGETS["peak_mb"] else ""
        rows.append(f"| `{name}` | {cell(entry.get('full'), 'seconds', 'full_seconds')} | "
                    f"{cell(entry.get('fast'), 'seconds', 'fast_seconds')} | {peak} MB{flag} |")
    return "\n".join(rows)


README_START, README_END = "<!-- notebook timings start -->", "<!-- notebook timings end -->"


def write(record: dict) -> None:
    """Write the header lines, the slow-cell comments and the README table from ``record``."""
    for name, (header, comments) in expected_text(record).items():
        for path in (NOTEBOOKS / f"{name}.ipynb", INSTRUCTOR_NOTEBOOKS / f"{name}.ipynb"):
            if path.is_file():
                _write_header(path, header, comments)
    text = README.read_text()
    start, end = text.index(README_START), text.index(README_END)
    README.write_text(text[:start + len(README_START)] + "\n" + readme_table(record) + "\n" + text[end:])


def _write_header(path: Path, header: str, comments: dict) -> None:
    """One notebook's header and slow-cell comments, written as nbformat (and nbgrader's release) writes it, so that
    the student edition stays byte for byte what the release makes of the instructor's."""
    import nbformat

    raw = json.loads(path.read_text())
    first = raw["cells"][0]
    text = "".join(first["source"])
    # the old header with the blank lines before it, so that writing again changes nothing
    text = re.sub(r"\n*" + re.escape(HEADER_MARK) + r"\n[^\n]*", "", text).rstrip("\n")
    text = re.sub(r"\n{3,}", "\n\n", text)
    lines = text.split("\n")
    lines.insert(1, "\n" + header)  # right under the title
    first["source"] = nbformat.v4.new_markdown_cell("\n".join(lines)).source.splitlines(keepends=True)
    for cell in raw["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        src = re.sub(r"^" + re.escape(CELL_MARK) + r"[^\n]*\n", "", src)
        if cell.get("id") in comments:
            src = comments[cell["id"]] + "\n" + src
        cell["source"] = src.splitlines(keepends=True)
    path.write_text(json.dumps(raw, sort_keys=True, indent=1, ensure_ascii=False) + "\n")


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m deeptrack_lite.course.timing", description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", action="append", choices=["fast", "full"], help="fast and/or full (repeat the option)")
    parser.add_argument("--notebooks", default="", help="comma-separated stems (default: all)")
    parser.add_argument("--warm", action="store_true", help="keep the results cache instead of emptying it first")
    parser.add_argument("--write", action="store_true", help="write the figures into the notebooks and the README")
    args = parser.parse_args(argv)
    names = [n for n in args.notebooks.split(",") if n] or sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
    record = measure(names, args.mode, cold=not args.warm) if args.mode else json.loads(RECORD.read_text())
    if args.write:
        write(record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
