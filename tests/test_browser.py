"""The notebooks as students meet them: JupyterLab in a real (headless) Chromium, cells run from the Run menu, widgets
rendered by the ipywidgets front end, a slider moved or play pressed, and the output it drives checked to change.

nbclient (tests/test_notebooks.py) proves the Python side; only a browser proves the other half: the JupyterLab
widget extension is installed and loads, the comm messages arrive, and the views draw. One JupyterLab serves the
whole module, on 127.0.0.1 with a token, over a copy of the notebooks (JupyterLab saves what it runs), in fast mode.
Chromium is the system's (``apt install chromium``; ``DEEPTRACK_CHROMIUM`` names another); Playwright drives it
through ``executable_path``, so nothing downloads a browser. Screenshots of every step land in the test's
temporary folder (pytest prints where when a test fails).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import free_port, load_make_script, wait_for_http

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = load_make_script().find_chromium()

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: " + load_make_script().CHROMIUM_HINT)]

TIMEOUT_MS = 240_000  # running the cells above a widget (fast mode), on a busy 2-core machine
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab of this environment over a copy of the notebooks; yields (base URL, token, folder)."""
    pytest.importorskip("playwright", reason="Playwright is in the test extra: python3 make.py test installs it")
    home = tmp_path_factory.mktemp("jupyter")
    notebooks = home / "notebooks"
    shutil.copytree(ROOT / "notebooks", notebooks, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    # no "would you like news?" toast over the notebook, no update check (the machine may have no network)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    token, port = "browser-test", free_port()
    env = dict(os.environ, DEEPTRACK_FAST="1", MPLBACKEND="module://matplotlib_inline.backend_inline",
               JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTER_DATA_DIR=str(home / "data"), JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"))
    log = open(home / "jupyterlab.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={notebooks}", "--allow-root",
         "--ServerApp.disable_check_xsrf=False", "--LabApp.news_url=None"],
        cwd=notebooks, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_for_http(f"{base}/api/status?token={token}", server):
            pytest.fail(f"JupyterLab did not start: {(home / 'jupyterlab.log').read_text()[-2000:]}")
        yield base, token, notebooks
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


class Notebook:
    """One notebook open in JupyterLab, driven as a student drives it: click a cell, use the Run menu."""

    def __init__(self, page, name: str, shots: Path):
        self.page, self.name, self.shots, self.step = page, name, shots, 0
        self.cell_ids = [c["id"] for c in json.loads((ROOT / "notebooks" / name).read_text())["cells"]]

    def shot(self, what: str) -> Path:
        self.step += 1
        path = self.shots / f"{Path(self.name).stem}-{self.step:02d}-{what}.png"
        self.page.screenshot(path=str(path))
        return path

    def cell(self, cell_id: str):
        index = self.cell_ids.index(cell_id)
        return self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(index)

    def menu(self, *path: str) -> None:
        self.page.locator(".lm-MenuBar-itemLabel", has_text=path[0]).first.click()
        for label in path[1:]:
            self.page.locator(".lm-Menu-itemLabel", has_text=label).first.click()

    def run_through(self, cell_id: str) -> None:
        """Select the cell, run every cell above it, then it (Run menu), and wait for the kernel to finish."""
        self.select(cell_id)
        self.menu("Run", "Run All Above Selected Cell")
        self.select(cell_id)  # (the notebook scrolls while it runs)
        self.menu("Run", "Run Selected Cell")
        self.wait_idle()

    def select(self, cell_id: str) -> None:
        """Make the cell the active one with the arrow keys in command mode, as the status bar's "Cell i/n" confirms
        (clicking cells far down is fragile: JupyterLab renders cells as they scroll into view, so they move)."""
        target = self.cell_ids.index(cell_id) + 1
        status = self.page.get_by_text(re.compile(r"^Cell \d+/\d+$"))
        self.page.keyboard.press("Escape")
        for _ in range(3):
            current = int(status.inner_text().split()[1].split("/")[0])
            key = "ArrowDown" if target > current else "ArrowUp"
            for _ in range(abs(target - current)):
                self.page.keyboard.press(key)
            try:
                self.page.wait_for_function("([el, want]) => el.innerText.startsWith(want)",
                                            arg=[status.element_handle(), f"Cell {target}/"], timeout=5_000)
                return
            except Exception:
                pass
        pytest.fail(f"{self.name}: could not select cell {target}: the status bar says {status.inner_text()}")

    def wait_idle(self) -> None:
        # every queued cell shows [*]; the kernel is done when none does and the status says Idle
        self.page.wait_for_function(
            """() => ![...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt')]
                     .some(p => p.textContent.includes('*'))""", timeout=TIMEOUT_MS)
        errors = self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output[data-mime-type="
                                   "'application/vnd.jupyter.stderr'] >> text=Traceback")
        assert errors.count() == 0, f"{self.name}: a cell failed:\n{errors.first.inner_text()[:3000]}"

    def widget(self, cell_id: str, selector: str):
        """The rendered widget view in a cell's output; a clear failure when the front end shows text instead."""
        output = self.cell(cell_id).locator(".jp-Cell-outputArea")
        view = output.locator(selector).first
        try:
            view.wait_for(state="visible", timeout=30_000)
            rendered = True
        except Exception:  # (Playwright's timeout: the failure below says why, without its call log)
            rendered = False
        if not rendered:
            self.shot("no-widget")
            pytest.fail(f"{self.name}: no widget view ({selector}) in cell {cell_id}; its output shows: "
                        f"{output.inner_text()[:600]!r}. Is the ipywidgets front end (jupyterlab_widgets) installed?")
        text = output.inner_text()
        assert "Loading widget" not in text and "Error displaying widget" not in text, text[:600]
        return view


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    yield page
    page.close()


def open_notebook(page, lab, name: str, shots: Path) -> Notebook:
    """Open a notebook in a fresh JupyterLab workspace (?reset: no tabs left from another test) and focus it."""
    base, token, _ = lab
    page.goto(f"{base}/lab/tree/{name}?reset&token={token}")
    page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for()
    # the kernel is up when the toolbar's status says Idle
    page.locator(".jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=120_000)
    page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell .jp-InputPrompt").first.click()  # focus: the first cell
    nb = Notebook(page, name, shots)
    nb.shot("opened")
    return nb


def test_welcome_sequence_browser_plays(page, lab, tmp_path):
    """Notebook 00: the sequence browser renders; play advances the frame (caption and picture); the drop-down
    switches the sequence."""
    nb = open_notebook(page, lab, "00_welcome.ipynb", tmp_path)
    nb.run_through("22e5e48d")
    nb.shot("ran")
    caption = nb.widget("22e5e48d", ".widget-html-content")
    picture = nb.widget("22e5e48d", ".widget-image")
    before_text, before_png = caption.inner_text(), picture.get_attribute("src")
    assert "frame 1/" in before_text, before_text
    first_frame = picture.screenshot(path=str(tmp_path / "frame-first.png"))
    nb.widget("22e5e48d", ".widget-play button").click()  # play
    nb.page.wait_for_function("(el) => !el.innerText.includes('frame 1/')", arg=caption.element_handle(), timeout=30_000)
    nb.widget("22e5e48d", ".widget-play button").click()  # pause
    nb.shot("played")
    after_text = caption.inner_text()
    assert after_text != before_text and "frame " in after_text
    assert picture.get_attribute("src") != before_png, "the frame's caption moved but the picture did not"
    assert picture.screenshot(path=str(tmp_path / "frame-later.png")) != first_frame
    # another sequence from the drop-down: a new player for it
    choice = nb.widget("22e5e48d", ".widget-dropdown select")
    options = choice.locator("option").all_inner_texts()
    choice.select_option(options[-1])
    nb.page.wait_for_function("([el, name]) => el.innerText.includes(name)",
                              arg=[nb.cell("22e5e48d").locator(".jp-Cell-outputArea").element_handle(), options[-1]], timeout=30_000)
    nb.shot("other-sequence")


def test_fcnt_frame_slider_redraws_the_heat_maps(page, lab, tmp_path):
    """Notebook 04 (FCNT, a deep tracker on the ImageNet backbone): after the tracker has run, the frame slider
    (continuous_update=False) redraws the figure of the chosen frame."""
    nb = open_notebook(page, lab, "04_fcnt.ipynb", tmp_path)
    nb.run_through("f719b515")
    nb.shot("ran")
    slider = nb.widget("f719b515", ".widget-slider")
    figure = nb.widget("f719b515", ".widget-output img")
    before = figure.get_attribute("src")
    readout = slider.locator(".widget-readout")
    first = readout.inner_text()
    slider.locator(".noUi-handle").first.focus()
    nb.page.keyboard.press("ArrowRight")  # one step: one new frame to draw
    nb.page.wait_for_function("([el, old]) => el.innerText !== old", arg=[readout.element_handle(), first])
    # the figure of the new frame replaces the old one (the kernel draws it: wait for a different picture)
    nb.page.wait_for_function(
        "([cell, old]) => { const img = cell.querySelector('.widget-output img'); return img && img.src !== old; }",
        arg=[nb.cell("f719b515").element_handle(), before], timeout=120_000)
    nb.shot("moved")
    assert readout.inner_text() != first


def test_the_video_track_writes_plays_in_chromium(page, lab, tmp_path):
    """`python -m deeptrack_lite track` writes .webm by default: Chromium decodes it (size, duration) and plays it."""
    from deeptrack_lite.cli import main

    base, token, folder = lab
    assert main(["track", "--tracker", "kcf", "--sequence", "synthetic:CupHide", "--frames", "12",
                 "--out", str(folder / "kcf-CupHide.webm")]) == 0
    page.goto(f"{base}/files/kcf-CupHide.webm?token={token}")  # same origin as the file: Chromium's own player
    page.wait_for_function("() => { const v = document.querySelector('video'); return v && v.readyState >= 2; }",
                           timeout=30_000)
    width, height, duration, error = page.evaluate(
        "() => { const v = document.querySelector('video'); return [v.videoWidth, v.videoHeight, v.duration, v.error]; }")
    assert error is None and width > 0 and height > 0 and duration > 0, (width, height, duration, error)
    page.evaluate("() => { const v = document.querySelector('video'); v.muted = true; return v.play(); }")
    page.wait_for_function("() => document.querySelector('video').currentTime > 0", timeout=30_000)
    page.screenshot(path=str(tmp_path / "video-playing.png"))
