"""The command line's help starts fast (no torch) and reads as text; `track` writes a video browsers play."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

HELP_SCRIPT = """
import contextlib, io, json, sys
from deeptrack_lite.cli import build_parser, main
commands = list(build_parser()._subparsers._group_actions[0].choices)
texts = {}
for command in [None, *commands]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            main(["--help"] if command is None else [command, "--help"])
        except SystemExit:
            pass
    texts[command or ""] = out.getvalue()
print(json.dumps({"torch": "torch" in sys.modules, "texts": texts}))
"""


@pytest.mark.slow
def test_every_help_text_imports_no_torch_and_shows_no_markup():
    done = subprocess.run([sys.executable, "-c", HELP_SCRIPT], capture_output=True, text=True, cwd=ROOT, check=True)
    found = json.loads(done.stdout)
    assert not found["torch"], "--help imported torch"
    assert len(found["texts"]) >= 12 and all("usage: python -m deeptrack_lite" in t for t in found["texts"].values())
    marked = {c: t for c, t in found["texts"].items() if any(m in t for m in ("``", ":func:", ":class:", ":data:"))}
    assert not marked, f"reStructuredText markup in the help of {sorted(marked)}"


def test_track_writes_a_webm_by_default_and_says_what_plays_it(tmp_path, monkeypatch, capsys):
    from deeptrack_lite.cli import main
    from deeptrack_lite.viz import video_codec

    monkeypatch.chdir(tmp_path)
    assert main(["track", "--tracker", "kcf", "--sequence", "synthetic:CupHide", "--frames", "5"]) == 0
    video = tmp_path / "kcf-CupHide.webm"
    assert video.is_file() and video_codec(video) == "VP80"
    assert "plays in every browser" in capsys.readouterr().out
    import cv2

    cap = cv2.VideoCapture(str(video))
    frames = 0
    while cap.read()[0]:
        frames += 1
    assert frames == 5
    # .mp4 still works, and says browsers refuse it
    assert main(["track", "--tracker", "kcf", "--sequence", "synthetic:CupHide", "--frames", "3", "--out", "v.mp4"]) == 0
    assert video_codec(tmp_path / "v.mp4") == "FMP4" and "browsers refuse it" in capsys.readouterr().out


def test_an_unknown_video_format_is_a_clear_error(tmp_path, capsys):
    from deeptrack_lite.cli import main
    from deeptrack_lite.errors import OutputError
    from deeptrack_lite.viz import VideoWriter

    with pytest.raises(OutputError, match=r"unknown video format \.gif.*\.webm"):
        VideoWriter(tmp_path / "x.gif", 10, (32, 24))
    assert main(["track", "--tracker", "kcf", "--sequence", "synthetic:CupHide", "--frames", "2",
                 "--out", str(tmp_path / "x.gif")]) == 2
    assert "unknown video format" in capsys.readouterr().err
