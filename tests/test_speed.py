"""The trackers' stage timers and the ``speed`` command (where time goes)."""
import json
import time

import numpy as np
import pytest

from deeptrack_lite.cli import main
from deeptrack_lite.data import Dataset
from deeptrack_lite.evaluation import measure_speed
from deeptrack_lite.trackers import base
from deeptrack_lite.trackers.base import STAGES, Tracker, create_tracker, track


class _Sleeper(Tracker):
    """Test double with known stage times: nested stages and an absorbing one."""

    name = "sleeper"

    def _init(self, image, box):
        with self.timed("training", absorb=True):
            time.sleep(0.02)
            with self.timed("scoring"):  # inside an absorbing stage: counted as training
                time.sleep(0.02)
        self._box = box

    def _update(self, image):
        with self.timed("features"):
            time.sleep(0.01)
            with self.timed("scoring"):  # nested: exclusive, not counted twice
                time.sleep(0.05)
        time.sleep(0.01)  # no stage: "other"
        return self._box


def test_stage_timers_are_exclusive_absorbing_and_add_up(small_sequence):
    t = _Sleeper(device="cpu")
    t.init(small_sequence.frame(0), small_sequence.ground_truth[0])
    timing = t.last_info["timing"]
    # a sleep lasts at least its time and, on a busy machine (the suite runs on two workers), up to tens of ms more:
    # each bound below has 40 ms of slack, and a stage counted twice or not absorbed would still break one
    assert set(timing) == {"training", "other", "total"}  # the scoring inside training is absorbed
    assert 0.04 <= timing["training"] < 0.08
    t.update(small_sequence.frame(1))
    timing = t.last_info["timing"]
    assert 0.01 <= timing["features"] < 0.05   # without the nested 0.05 s of scoring
    assert 0.05 <= timing["scoring"] < 0.09
    assert 0.01 <= timing["other"] < 0.05
    assert sum(v for k, v in timing.items() if k != "total") == pytest.approx(timing["total"], rel=1e-9)


@pytest.mark.parametrize("name, params", [
    ("mdnet", dict(init_steps=3, update_steps=2, n_neg_init=400, n_bbreg=100, update_interval=2)),
    ("fcnt", dict(select_steps=3, init_steps=3, update_interval=2, update_steps=2, init_regions=2, collect_above=-1.0)),
    ("dlt", dict(init_steps=3, update_steps=2, n_particles=50, threshold=1.01)),
])
def test_deep_trackers_time_their_stages(name, params, small_sequence):
    seq = small_sequence.subsequence(0, 5)
    run = track(create_tracker(name, device="cpu", **params), seq, progress=False, keep_info=["timing"])
    assert all(set(info) == {"timing"} for info in run.infos)   # only the keys asked for are kept
    for i, info in enumerate(run.infos):
        timing = info["timing"]
        assert set(timing) - {"total"} <= set(STAGES)
        assert sum(v for k, v in timing.items() if k != "total") == pytest.approx(timing["total"], rel=1e-6)
        assert timing["total"] <= run.times[i] + 1e-6          # the tracker's own time, inside the measured one
    init = run.infos[0]["timing"]
    assert init.get("training", 0) > 0 and init.get("features", 0) > 0
    updates = [info["timing"] for info in run.infos[1:]]
    assert all(u.get("features", 0) > 0 and u.get("scoring", 0) > 0 for u in updates)
    assert any(u.get("training", 0) > 0 for u in updates)      # update_interval=2 / threshold > 1: updates happen


def test_measure_speed_breakdown_adds_up_to_the_measured_time(small_sequence):
    data = Dataset("tiny", [small_sequence.subsequence(0, 6)])
    report = measure_speed(["dlt:init_steps=5:n_particles=60", "identity"], data, device="cpu", progress=False)
    dlt = report.trackers["dlt"]
    assert dlt.frames == 6 and dlt.coverage == pytest.approx(1.0, abs=0.1)
    total = sum(dlt.init_breakdown.values()) + sum(dlt.update_breakdown.values())
    assert total == pytest.approx(dlt.init_seconds + dlt.update_seconds, rel=0.1)
    assert dlt.fps == pytest.approx(6 / (dlt.init_seconds + dlt.update_seconds))
    assert dlt.fps_after_init == pytest.approx(5 / dlt.update_seconds)
    assert report.trackers["identity"].success_auc == pytest.approx(
        report.trackers["identity"].per_sequence[small_sequence.name]["success_auc"])
    assert "dlt" in report.table() and "torch threads" in report.table()


def test_speed_command_writes_json(tmp_path, capsys):
    out = tmp_path / "speed.json"
    assert main(["speed", "--trackers", "identity,kcf", "--sequences", "CatLight", "--frames", "4", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "kcf" in printed and "FPS" in printed
    data = json.loads(out.read_text())
    assert set(data["trackers"]) == {"identity", "kcf"}
    kcf = data["trackers"]["kcf"]
    assert kcf["frames"] == 4 and kcf["fps"] > 0 and kcf["per_sequence"]["CatLight"]["frames"] == 4
    assert data["torch_threads"] >= 1 and data["device"].startswith("cpu")


def test_speed_command_bad_tracker_is_a_clear_error(capsys):
    assert main(["speed", "--trackers", "nosuch", "--frames", "3", "--sequences", "CatLight"]) == 2
    assert "unknown tracker" in capsys.readouterr().err
