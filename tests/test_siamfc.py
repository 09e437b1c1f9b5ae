"""SiamFC: labels and loss, training on pairs (one step lowers the loss; resumable), the shipped weights on
held-back pairs, and the tracker."""
import json

import numpy as np
import pytest
import torch

from deeptrack_lite.cli import main
from deeptrack_lite.data import synthetic_benchmark
from deeptrack_lite.errors import DataError
from deeptrack_lite.evaluation import overlap
from deeptrack_lite.features.backbones import backbone
from deeptrack_lite.models.siamfc import (DEFAULT_SIAMFC, SiamFCNet, balanced_logistic_loss, exemplar_side, load_siamfc,
                                          response_labels)
from deeptrack_lite.trackers import create_tracker, track
from deeptrack_lite.training.siamfc import SiamFCTrainConfig, evaluate_pairs, pair_loss, train_siamfc, training_pairs

# What the shipped weights reach on pairs they never saw (train-siamfc's own held-back pairs: see siamfc.json);
# these are fresh pairs of another variant.
STATED_HIT_RATE = 0.8


def test_labels_and_the_balanced_loss():
    lab = response_labels(17, [(8, 8), (3.5, 10)], 2.0)
    assert lab.shape == (2, 17, 17) and lab[0, 8, 8] == 1 and lab[0, 8, 11] == 0 and lab[0].sum() == 13
    assert lab[1, 10, 3] == 1 and lab[1, 10, 6] == 0
    # a perfect separation costs little, the opposite a lot; each class weighs half whatever its size
    good = balanced_logistic_loss((lab * 2 - 1) * 10, lab)
    bad = balanced_logistic_loss((1 - lab * 2) * 10, lab)
    assert float(good) < 0.01 < 5 < float(bad)
    zeros = balanced_logistic_loss(torch.zeros(2, 17, 17), lab)
    assert float(zeros) == pytest.approx(np.log(2), rel=1e-5)
    assert exemplar_side([0, 0, 40, 20]) == pytest.approx(((40 + 30) * (20 + 30)) ** 0.5)


def test_one_step_lowers_the_loss_on_a_fixed_batch():
    config = SiamFCTrainConfig.fast()
    pairs = training_pairs(8, synthetic_benchmark(20, variant=5, names=["CatLight", "CupHide"]), config, 0,
                           backbone("efficientnet_lite0", "cpu"))
    torch.manual_seed(0)
    net = SiamFCNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    idx = torch.arange(8)
    before = float(pair_loss(net, pairs, idx, 2.0, "cpu").detach())
    for _ in range(3):
        loss = pair_loss(net, pairs, idx, 2.0, "cpu")
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(pair_loss(net, pairs, idx, 2.0, "cpu").detach()) < before


@pytest.mark.slow
def test_training_resumes_to_the_same_weights_and_records_provenance(tmp_path):
    config = SiamFCTrainConfig.fast(n_train=32, n_val=16, epochs=3)
    full = train_siamfc(config, tmp_path / "full", device="cpu", progress=False)
    assert {"val_center_error", "val_hit_rate"} <= set(full.log[-1])
    train_siamfc(config, tmp_path / "split", device="cpu", progress=False, stop_after=1)
    resumed = train_siamfc(config, tmp_path / "split", device="cpu", progress=False)
    for a, b in zip(full.net.state_dict().values(), resumed.net.state_dict().values()):
        assert torch.equal(a, b)
    meta = json.loads((tmp_path / "full" / "siamfc.json").read_text())
    assert meta["config"]["n_train"] == 32 and "pairs" in meta["data"]
    net, crops = load_siamfc(tmp_path / "full" / "siamfc.pt")
    assert crops == {"exemplar_size": 79, "search_size": 159, "context": 0.5}
    with pytest.raises(DataError, match="val_variant"):
        SiamFCTrainConfig(variants=(5,), val_variant=5).validate()


@pytest.mark.slow
def test_shipped_weights_find_the_target_in_held_back_pairs():
    meta = json.loads(DEFAULT_SIAMFC.with_suffix(".json").read_text())
    assert meta["command"] == "python -m deeptrack_lite train-siamfc --out deeptrack_lite/weights"
    assert meta["config"] == json.loads(json.dumps(SiamFCTrainConfig().__dict__))
    net, crops = load_siamfc()
    config = SiamFCTrainConfig(frames=60, **crops)
    pairs = training_pairs(48, synthetic_benchmark(60, variant=11), config, 321, backbone("efficientnet_lite0", "cpu"))
    scores = evaluate_pairs(net, pairs, config.radius / 8)
    assert scores["val_hit_rate"] >= STATED_HIT_RATE


def test_train_siamfc_command_on_a_folder_and_bad_weight_files(tmp_path, capsys, monkeypatch, three_video_folder):
    monkeypatch.setenv("DEEPTRACK_FAST", "1")
    assert main(["train-siamfc", "--out", str(tmp_path / "w"), "--dataset", str(three_video_folder), "--pairs", "16",
                 "--val-pairs", "8", "--epochs", "1"]) == 0
    assert "crop pixels" in capsys.readouterr().out
    assert "FaceBlur (held back)" in json.loads((tmp_path / "w" / "siamfc.json").read_text())["validation_data"]
    with pytest.raises(DataError, match="train-siamfc"):
        load_siamfc(tmp_path / "absent.pt")
    (tmp_path / "bad.pt").write_bytes(b"nope")
    with pytest.raises(DataError):
        load_siamfc(tmp_path / "bad.pt")


def test_the_tracker_follows_the_target_without_learning_online(small_sequence):
    t = create_tracker("siamfc")
    run = track(t, small_sequence, progress=False, keep_info=["response", "final_map", "scale"])
    assert np.mean(overlap(run.boxes, small_sequence.ground_truth)) > 0.5
    exemplar = t.exemplar.clone()
    track(t, small_sequence, progress=False, init_box=small_sequence.ground_truth[0])
    assert torch.equal(t.exemplar, exemplar)  # nothing learned: the same first frame gives the same exemplar
    info = run.infos[-1]
    assert info["response"].shape == (11, 11) and info["final_map"].shape == (11 * 8, 11 * 8)
    plain = create_tracker("siamfc", window_influence=0.0)
    assert np.isfinite(track(plain, small_sequence, progress=False).boxes).all()


def test_response_cells_and_image_pixels_convert_both_ways(small_sequence):
    t = create_tracker("siamfc")
    t.init(small_sequence.frame(0), small_sequence.ground_truth[0])
    region = t.search_regions()[1]
    centre = region[:2] + region[2] / 2
    U = t.window.shape[-1]
    assert np.allclose(t.map_to_image(((U - 1) / 2, (U - 1) / 2), region), centre)  # the map's centre
    point = centre + np.array([7.0, -3.0])
    assert np.allclose(t.map_to_image(t.image_to_map(point, region), region), point)
    t.update(small_sequence.frame(1))
    info = t.last_info
    assert info["responses"].shape[0] == len(t.params["scales"]) and info["regions"].shape == (len(t.params["scales"]), 4)
    # locate() redoes the tracker's own decision from the kept maps
    import torch
    again = t.locate(torch.tensor(info["responses"]))
    assert np.allclose(again["final"].numpy(), info["final_map"])


def test_the_channels_last_trunk_computes_the_same_features_and_leaves_the_shared_one_alone():
    from deeptrack_lite.models.siamfc import trunk_features
    from deeptrack_lite.trackers.siamfc import channels_last_trunk

    shared = backbone("efficientnet_lite0", "cpu")
    fast = channels_last_trunk(shared)
    assert fast is channels_last_trunk(shared) and fast.net is not shared.net
    crops = torch.rand(2, 3, 64, 64)
    for a, b in zip(trunk_features(shared, crops), trunk_features(fast, crops.contiguous(memory_format=torch.channels_last))):
        assert torch.allclose(a, b, atol=1e-4)
    assert shared.net._conv_stem.weight.is_contiguous()  # the cached trunk other trackers use keeps its layout


def test_siamfc_and_sodlt_share_the_trunk_module_and_not_each_other_s_code():
    # a change to SO-DLT's head or box readout must not make SiamFC's stored runs stale, nor the reverse
    from deeptrack_lite.fingerprint import module_closure

    siamfc, sodlt = module_closure("deeptrack_lite.trackers.siamfc"), module_closure("deeptrack_lite.trackers.sodlt")
    assert "deeptrack_lite.models.trunk" in siamfc and "deeptrack_lite.models.trunk" in sodlt
    assert "deeptrack_lite.models.sodlt" not in siamfc and "deeptrack_lite.models.siamfc" not in sodlt
