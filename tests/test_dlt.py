"""DLT: the SDAE's pieces, its pretraining (layer-wise, resumable, with provenance), and the tracker."""
import json

import numpy as np
import pytest
import torch

from deeptrack_lite.cli import main
from deeptrack_lite.errors import DataError
from deeptrack_lite.models.sdae import (DEFAULT_SDAE, SDAE, corrupt, kl_sparsity, load_sdae, save_sdae,
                                        sdae_provenance, standardize_patches)
from deeptrack_lite.trackers import create_tracker, track
from deeptrack_lite.trackers.dlt import dlt_network
from deeptrack_lite.training import SDAEPretrainConfig, pretrain_sdae, read_loss_log, stack_reconstruction_mse

TINY = SDAEPretrainConfig(sizes=(1024, 96, 48), n_patches=3000, n_val=400, layer_epochs=2, finetune_epochs=2)


# ------------------------------------------------------------------------------------------------ pieces
def test_masking_noise_zeroes_about_the_given_fraction_and_nothing_else():
    x = torch.rand(200, 1024) + 0.5  # no zeros to begin with
    gen = torch.Generator().manual_seed(0)
    y = corrupt(x, "masking", 0.3, gen)
    zeroed = y == 0
    assert zeroed.float().mean().item() == pytest.approx(0.3, abs=0.01)
    assert torch.equal(y[~zeroed], x[~zeroed])  # the rest is untouched
    assert not torch.equal(x, y) and (x > 0).all()  # the input itself is not modified


def test_gaussian_noise_has_the_given_std_and_none_is_a_copy():
    x = torch.zeros(100, 1024)
    y = corrupt(x, "gaussian", 0.2, torch.Generator().manual_seed(1))
    assert y.mean().item() == pytest.approx(0.0, abs=0.01) and y.std().item() == pytest.approx(0.2, rel=0.02)
    z = corrupt(x, "none", 0.5)
    assert torch.equal(z, x) and z is not x
    with pytest.raises(ValueError, match="noise kind"):
        corrupt(x, "salt", 0.1)


def test_kl_sparsity_is_zero_at_the_target_and_grows_away_from_it():
    at_target = torch.full((10, 5), 0.05)
    assert kl_sparsity(at_target, 0.05).item() == pytest.approx(0.0, abs=1e-7)
    assert 0 < kl_sparsity(torch.full((10, 5), 0.2), 0.05) < kl_sparsity(torch.full((10, 5), 0.5), 0.05)


def test_standardized_patches_have_zero_mean_and_contrast_normalised():
    raw = torch.rand(7, 32, 32) * torch.linspace(0.1, 1.0, 7)[:, None, None] + 0.2
    x = standardize_patches(raw)
    assert x.shape == (7, 1024)
    assert torch.allclose(x.mean(dim=1), torch.zeros(7), atol=1e-5)
    s = raw.reshape(7, -1).std(dim=1)
    assert torch.allclose(x.std(dim=1), s / (s + 0.05), atol=1e-4)  # unit variance, damped for flat patches
    assert torch.isfinite(standardize_patches(torch.full((1, 32, 32), 0.5))).all()


# ------------------------------------------------------------------------------------------------ pretraining
def test_layerwise_pretraining_reduces_reconstruction_error(tmp_path):
    torch.manual_seed(TINY.seed)
    untrained = SDAE(TINY.sizes)
    result = pretrain_sdae(TINY, tmp_path, device="cpu", progress=False)
    log = {(r["stage"], r["epoch"]): r for r in result.log}
    from deeptrack_lite.data.patches import natural_patches

    x_val = standardize_patches(torch.from_numpy(natural_patches(TINY.n_val, seed=TINY.seed + 1)))
    # each greedy stage beats the untrained layers at the same depth, and its second epoch its first
    for depth, stage in ((1, "layer1"), (2, "layer2")):
        assert log[(stage, 2)]["val_mse"] < stack_reconstruction_mse(untrained, x_val, depth)
        assert log[(stage, 2)]["train_loss"] < log[(stage, 1)]["train_loss"]
    # end-to-end fine-tuning improves on the greedy stack's reconstruction
    assert log[("finetune", 2)]["val_mse"] < log[("layer2", 2)]["val_mse"]
    assert stack_reconstruction_mse(result.model, x_val) == pytest.approx(log[("finetune", 2)]["val_mse"], rel=1e-4)


def test_greedy_stage_trains_only_its_own_layer(tmp_path):
    config = SDAEPretrainConfig(sizes=(1024, 64, 32), n_patches=1000, n_val=100, layer_epochs=1, finetune_epochs=0)
    first = pretrain_sdae(config, tmp_path / "a", progress=False, keep_checkpoint=True, stop_after=1).model
    w1 = first.encoders[0].weight.detach().clone()
    second = pretrain_sdae(config, tmp_path / "a", progress=False).model  # resumes into stage layer2
    assert torch.equal(second.encoders[0].weight, w1)
    torch.manual_seed(config.seed)
    assert not torch.equal(second.encoders[1].weight, SDAE(config.sizes).encoders[1].weight)


@pytest.mark.slow
def test_interrupted_pretraining_resumes_to_the_same_weights(tmp_path):
    whole = pretrain_sdae(TINY, tmp_path / "whole", progress=False)
    partial = pretrain_sdae(TINY, tmp_path / "split", progress=False, stop_after=3)
    assert (tmp_path / "split" / "sdae_checkpoint.pt").is_file() and not (tmp_path / "split" / "sdae.pt").exists()
    assert len(partial.log) == 3
    resumed = pretrain_sdae(TINY, tmp_path / "split", progress=False)
    assert [r["stage"] for r in resumed.log] == [r["stage"] for r in whole.log]
    for (k, a), b in zip(whole.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), k
    assert not (tmp_path / "split" / "sdae_checkpoint.pt").exists()  # removed once finished
    with pytest.raises(DataError, match="other settings"):
        pretrain_sdae(TINY, tmp_path / "split2", progress=False, stop_after=1)
        pretrain_sdae(SDAEPretrainConfig.fast(seed=5), tmp_path / "split2", progress=False)


def test_weights_round_trip_and_bad_files_are_clear_errors(tmp_path):
    model = SDAE((1024, 32, 16))
    path = save_sdae(model, tmp_path / "w.pt", {"command": "test"})
    loaded = load_sdae(path)
    prov = sdae_provenance(path)
    assert loaded.sizes == (1024, 32, 16) and prov["command"] == "test" and set(prov) == {"command", "sha256"}
    assert torch.equal(loaded.encoders[1].weight, model.encoders[1].weight)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(DataError):
        load_sdae(tmp_path / "junk.pt")
    with pytest.raises(DataError, match="pretrain-sdae"):
        load_sdae(tmp_path / "missing.pt")


def test_shipped_weights_carry_their_provenance():
    meta = sdae_provenance()
    assert meta["command"].startswith("python -m deeptrack_lite pretrain-sdae")
    assert meta["seed"] == meta["config"]["seed"] and "scikit-image" in meta["data"]
    model = load_sdae()
    assert list(model.sizes) == meta["config"]["sizes"]
    log = read_loss_log(DEFAULT_SDAE.parent / meta["loss_log"])
    assert log[-1]["stage"] == "finetune" and log[-1]["val_mse"] == pytest.approx(meta["final_val_reconstruction_mse"])
    # the shipped encoder reconstructs held-out natural patches far better than an untrained one
    from deeptrack_lite.data.patches import natural_patches

    x = standardize_patches(torch.from_numpy(natural_patches(300, seed=12345)))
    assert stack_reconstruction_mse(model, x) < 0.5 * stack_reconstruction_mse(SDAE(model.sizes), x)


def test_pretrain_command_writes_weights_log_and_provenance(tmp_path, capsys):
    out = tmp_path / "w"
    assert main(["pretrain-sdae", "--out", str(out), "--sizes", "1024,64,32", "--patches", "600", "--seed", "3"]) == 0
    meta = json.loads((out / "sdae.json").read_text())
    assert meta["command"] == f"python -m deeptrack_lite pretrain-sdae --out {out} --sizes 1024,64,32 --patches 600 --seed 3"
    assert meta["config"]["sizes"] == [1024, 64, 32] and meta["seed"] == 3
    assert {r["stage"] for r in read_loss_log(out / "sdae_loss.csv")} == {"layer1", "layer2", "finetune"}
    assert load_sdae(out / "sdae.pt").sizes == (1024, 64, 32)
    assert main(["pretrain-sdae", "--out", str(out), "--sizes", "1024,64,80"]) == 2  # not shrinking
    assert "shrinking" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------ tracker
def test_random_encoder_differs_from_the_pretrained_one():
    pre, rnd = dlt_network(pretrained=True), dlt_network(pretrained=False)
    shipped = load_sdae()
    assert torch.equal(pre.encoder[0].weight, shipped.encoders[0].weight)
    assert not torch.allclose(rnd.encoder[0].weight, shipped.encoders[0].weight)


@pytest.mark.parametrize("threshold", [0.0, 0.88, 1.01])
def test_update_happens_exactly_when_best_confidence_is_below_threshold(threshold, small_sequence):
    t = create_tracker("dlt", threshold=threshold, n_particles=100, init_steps=40, update_steps=3)
    run = track(t, small_sequence, progress=False, keep_info=True)
    infos = run.infos[1:]
    updated = [info["updated"] for info in infos]
    assert updated == [info["confidence"] < threshold for info in infos]
    assert t.updates == [i + 1 for i, u in enumerate(updated) if u]
    if threshold == 0.0:
        assert not any(updated)
    if threshold > 1:
        assert all(updated)
    if threshold == 0.88:  # on this sequence confidences straddle 0.88: both branches are exercised
        assert 0 < sum(updated) < len(updated)


def test_update_changes_the_network_and_no_update_leaves_it(small_sequence):
    frames, box = [small_sequence.frame(i) for i in range(3)], small_sequence.ground_truth[0]
    weights = {}
    for threshold in (0.0, 1.01):
        t = create_tracker("dlt", threshold=threshold, n_particles=64, init_steps=20)
        t.init(frames[0], box)
        before = t.net.classifier.weight.detach().clone()
        t.update(frames[1])
        weights[threshold] = torch.equal(before, t.net.classifier.weight)
    assert weights[0.0] and not weights[1.01]


def test_dlt_confidence_is_batched_and_separates_target_from_background(small_sequence):
    t = create_tracker("dlt", n_particles=64)
    frame, box = small_sequence.frame(0), small_sequence.ground_truth[0]
    t.init(frame, box)
    boxes = np.array([box, [2, 2, box[2], box[3]], [frame.shape[1] - box[2] - 2, 2, box[2], box[3]]])
    conf = t.confidence(frame, boxes)
    assert conf.shape == (3,)
    assert float(conf[0]) > 0.8 and float(conf[1:].max()) < 0.5
