"""The recurrent (Re3-style) tracker: its state matters, training lowers the loss with growing unrolls and
resumes, the shipped weights on held-back clips, and the tracker."""
import json

import numpy as np
import pytest
import torch

from deeptrack_lite.cli import main
from deeptrack_lite.data import synthetic_benchmark
from deeptrack_lite.errors import DataError
from deeptrack_lite.evaluation import overlap
from deeptrack_lite.features.backbones import backbone
from deeptrack_lite.models.recurrent import (DEFAULT_RECURRENT, RecurrentTrackerNet, box_from_region, box_in_region,
                                             crop_region, load_recurrent)
from deeptrack_lite.trackers import create_tracker, track
from deeptrack_lite.training.recurrent import RecurrentTrainConfig, evaluate_clips, segment_loss, train_recurrent, \
    training_clips

MARGIN = 0.05  # over answering the box the crop is centred on, on fresh held-back clips (recurrent.json: its own)


def test_the_state_changes_the_output():
    torch.manual_seed(0)
    net = RecurrentTrackerNet(cells=6).eval()
    prev, cur = torch.rand(1, 112, 6, 6), torch.rand(1, 112, 6, 6)
    fresh, state = net.step(prev, cur, net.initial_state(1))
    again, _ = net.step(prev, cur, state)       # the same two crops, after one step of memory
    assert not torch.allclose(fresh, again)
    same, _ = net.step(prev, cur, net.initial_state(1))
    assert torch.equal(fresh, same)             # and the same state gives the same answer


def test_regions_round_trip():
    region = crop_region([10, 20, 30, 40], 2.0)
    assert region.tolist() == pytest.approx([-5, 0, 60, 80])
    frac = box_in_region([10, 20, 30, 40], region)
    assert frac.tolist() == pytest.approx([0.25, 0.25, 0.75, 0.75])
    assert box_from_region(frac, region).tolist() == pytest.approx([10, 20, 30, 40])


def test_one_step_lowers_the_loss_on_a_fixed_batch():
    config = RecurrentTrainConfig.fast()
    clips = training_clips(4, synthetic_benchmark(20, variant=8, names=["CatLight"]), config, 0,
                           backbone("efficientnet_lite0", "cpu"))
    assert clips.prev.shape[:2] == (4, 8) and clips.boxes01.shape == (4, 8, 4)
    torch.manual_seed(0)
    net = RecurrentTrackerNet(cells=6)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    idx = torch.arange(4)
    before = float(segment_loss(net, clips, idx, 8, "cpu").detach())
    for _ in range(3):
        loss = segment_loss(net, clips, idx, 8, "cpu")
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(segment_loss(net, clips, idx, 8, "cpu").detach()) < before


@pytest.mark.slow
def test_training_grows_the_unroll_resumes_and_records_provenance(tmp_path):
    config = RecurrentTrainConfig.fast(n_clips=8, n_val=4, frames=20)  # the mechanics, not the learning: small
    full = train_recurrent(config, tmp_path / "full", device="cpu", progress=False)
    assert [row["unroll"] for row in full.log] == [2, 8]
    train_recurrent(config, tmp_path / "split", device="cpu", progress=False, stop_after=1)
    resumed = train_recurrent(config, tmp_path / "split", device="cpu", progress=False)
    for a, b in zip(full.net.state_dict().values(), resumed.net.state_dict().values()):
        assert torch.equal(a, b)
    net, crops = load_recurrent(tmp_path / "full" / "recurrent.pt")
    assert crops == {"context": 2.0, "crop_size": 96}
    with pytest.raises(DataError, match="divide"):
        RecurrentTrainConfig(clip_length=16, unrolls=(3,)).validate()


@pytest.mark.slow
def test_shipped_weights_on_held_back_clips():
    meta = json.loads(DEFAULT_RECURRENT.with_suffix(".json").read_text())
    assert meta["command"] == "python -m deeptrack_lite train-recurrent --out deeptrack_lite/weights"
    assert meta["config"] == json.loads(json.dumps(RecurrentTrainConfig().__dict__))
    net, crops = load_recurrent()
    config = RecurrentTrainConfig(frames=60, **crops)
    clips = training_clips(16, synthetic_benchmark(60, variant=12), config, 99, backbone("efficientnet_lite0", "cpu"))
    scores = evaluate_clips(net, clips, crops["context"])
    assert scores["val_iou"] >= scores["val_iou_unmoved"] + MARGIN


@pytest.mark.slow
def test_train_recurrent_command_and_bad_weight_files(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DEEPTRACK_FAST", "1")
    assert main(["train-recurrent", "--out", str(tmp_path), "--clips", "8", "--val-clips", "4"]) == 0
    assert "mean IoU" in capsys.readouterr().out and (tmp_path / "recurrent_log.csv").is_file()
    with pytest.raises(DataError, match="train-recurrent"):
        load_recurrent(tmp_path / "absent.pt")


def test_train_recurrent_on_a_folder_of_sequences(tmp_path, capsys, monkeypatch, three_video_folder):
    """Real video instead of the synthetic scenarios: any OTB / VOT / GOT-10k folder, its last sequence held back."""
    from deeptrack_lite.data import write_dataset_otb

    monkeypatch.setenv("DEEPTRACK_FAST", "1")
    assert main(["train-recurrent", "--out", str(tmp_path / "w"), "--dataset", str(three_video_folder), "--frames",
                 "16", "--clips", "8", "--val-clips", "4"]) == 0
    assert "mean IoU" in capsys.readouterr().out
    meta = json.loads((tmp_path / "w" / "recurrent.json").read_text())
    assert meta["data"] == "8 clips of 8 steps from 2 sequences of otb"
    assert meta["validation_data"] == "4 clips from FaceBlur (held back)"
    write_dataset_otb(synthetic_benchmark(20, names=["CatLight"]), tmp_path / "one")
    assert main(["train-recurrent", "--out", str(tmp_path / "w1"), "--dataset", str(tmp_path / "one")]) != 0
    assert "needs at least two sequences (one is held back); one has 1" in capsys.readouterr().err


def test_the_tracker_follows_the_target_and_its_memory_matters(small_sequence):
    t = create_tracker("recurrent")
    run = track(t, small_sequence, progress=False, keep_info=["state_norm", "reset"])
    assert np.mean(overlap(run.boxes, small_sequence.ground_truth)) > 0.5
    assert all(info["state_norm"] > 0 for info in run.infos[1:])
    memoryless = track(create_tracker("recurrent", reset_every=1), small_sequence, progress=False)
    assert not np.allclose(memoryless.boxes, run.boxes)
    assert all(info["reset"] for info in track(create_tracker("recurrent", reset_every=1), small_sequence.subsequence(0, 4),
                                               progress=False, keep_info=["reset"]).infos[1:])


def test_answer_replays_the_tracker_and_another_memory_changes_it(small_sequence):
    t = create_tracker("recurrent", reset_every=1000)
    run = track(t, small_sequence, progress=False, keep_info=["state", "region"])
    k = len(small_sequence) - 1
    replay = t.answer(small_sequence.frame(k - 1), small_sequence.frame(k), run.infos[k]["region"], run.infos[k - 1]["state"])
    assert np.allclose(replay, run.boxes[k], atol=1e-3)  # the same memory gives the tracker's own answer
    empty = t.answer(small_sequence.frame(k - 1), small_sequence.frame(k), run.infos[k]["region"],
                     [np.zeros(t.net.hidden)] * 2)
    assert not np.allclose(empty, replay)
