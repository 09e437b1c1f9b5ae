"""The deep belief network: RBMs and contrastive divergence, greedy pretraining, and the DBN tracker, which is
DLT's pipeline with another pretrained representation."""
import itertools
import json

import numpy as np
import pytest
import torch

from deeptrack_lite.cli import main
from deeptrack_lite.errors import DataError
from deeptrack_lite.models.dbn import DBN, DEFAULT_DBN, RBM, cd_gradients, cd_step, load_dbn, save_dbn
from deeptrack_lite.trackers import create_tracker, track
from deeptrack_lite.trackers.dlt import DBNTracker, DLTTracker, dlt_network
from deeptrack_lite.training import DBNPretrainConfig, pretrain_dbn

TINY = DBNPretrainConfig(sizes=(1024, 64, 32), n_patches=2000, n_val=300, epochs=2)


def _exact_log_likelihood(rbm, data):
    """Mean log p(v) of binary ``data`` under a tiny Bernoulli RBM, by enumerating every visible state."""
    states = torch.tensor(list(itertools.product([0.0, 1.0], repeat=rbm.n_visible)))
    log_z = torch.logsumexp(-rbm.free_energy(states), 0)
    return float((-rbm.free_energy(data) - log_z).mean())


def test_free_energy_is_minus_log_of_the_energy_summed_over_hidden_states():
    torch.manual_seed(0)
    for kind in ("bernoulli", "gaussian"):
        rbm = RBM(4, 3, kind)
        with torch.no_grad():
            for p in rbm.parameters():
                p.normal_(0, 0.5)
        v = torch.rand(5, 4) if kind == "bernoulli" else torch.randn(5, 4)
        hs = torch.tensor(list(itertools.product([0.0, 1.0], repeat=3)))
        visible = 0.5 * ((v - rbm.b) ** 2).sum(1) if kind == "gaussian" else -(v @ rbm.b)
        energy = visible[:, None] - (hs @ rbm.c)[None, :] - v @ rbm.W.T @ hs.T  # 5 x 8
        assert torch.allclose(rbm.free_energy(v), -torch.logsumexp(-energy, 1), atol=1e-5)


@pytest.mark.parametrize("kind", ["gaussian", "bernoulli"])
def test_cd1_lowers_the_reconstruction_error_of_a_small_rbm_on_a_fixed_batch(kind):
    gen = torch.Generator().manual_seed(0)
    basis = torch.randn(4, 64, generator=gen)
    v = torch.randn(128, 4, generator=gen) @ basis / 2  # data on a 4-dimensional subspace: structure to learn
    if kind == "bernoulli":
        v = torch.sigmoid(2 * v)
    rbm = RBM(64, 16, kind).reset(gen)
    before = rbm.reconstruction_error(v)
    velocity = None
    for _ in range(200):
        velocity = cd_step(rbm, v, lr=0.01 if kind == "gaussian" else 0.1, momentum=0.5, velocity=velocity, generator=gen)
    assert rbm.reconstruction_error(v) < 0.6 * before


def test_cd_training_raises_the_exact_likelihood_of_the_data():
    gen = torch.Generator().manual_seed(1)
    data = torch.tensor([[1, 1, 0, 0, 1, 0], [0, 0, 1, 1, 0, 1]] * 16, dtype=torch.float32)  # two patterns
    rbm = RBM(6, 4, "bernoulli").reset(gen)
    before = _exact_log_likelihood(rbm, data)
    for _ in range(300):
        cd_step(rbm, data, lr=0.1, k=1, generator=gen)
    after = _exact_log_likelihood(rbm, data)
    assert after > before + 2.0  # log(1/64) = -4.16 per pattern at the start; two patterns can reach log(1/2)
    assert after > -1.5


def test_cd_gradient_has_the_positive_minus_negative_statistics():
    rbm = RBM(3, 2, "bernoulli")
    with torch.no_grad():
        rbm.W.copy_(torch.tensor([[1.0, -1.0, 0.5], [0.0, 2.0, -0.5]]))
    v0 = torch.tensor([[1.0, 0.0, 1.0]])
    g = cd_gradients(rbm, v0, k=1, generator=torch.Generator().manual_seed(0))
    assert g["W"].shape == rbm.W.shape and g["b"].shape == rbm.b.shape
    # with zero weights there is nothing to explain: the positive and negative statistics cancel on average
    flat = RBM(3, 2, "bernoulli")
    mean_w = torch.stack([cd_gradients(flat, v0, generator=torch.Generator().manual_seed(s))["W"] for s in range(400)]).mean(0)
    assert mean_w[:, 0].mean() > 0.2  # v0 has unit 0 on and the model's reconstructions are 0.5: push towards v0
    assert mean_w[:, 1].mean() < -0.2


def test_unrolled_dbn_encodes_as_the_stack_of_hidden_probabilities():
    torch.manual_seed(0)
    dbn = DBN((1024, 20, 10))
    for rbm in dbn.rbms:
        rbm.reset(std=0.1)
        with torch.no_grad():
            rbm.c.normal_()
            rbm.b.normal_()
    x = torch.randn(6, 1024)
    sdae = dbn.unroll()
    assert torch.allclose(sdae.encode(x), dbn.up(x), atol=1e-6)
    h = torch.rand(6, 10)
    assert torch.allclose(sdae.decode(h), dbn.down(h), atol=1e-6)
    samples = dbn.sample(3, gibbs_steps=5, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (3, 1024) and torch.isfinite(samples).all()


def test_greedy_pretraining_resumes_to_the_same_weights_and_writes_provenance(tmp_path):
    full = pretrain_dbn(TINY, tmp_path / "full", progress=False, device="cpu")
    partial = pretrain_dbn(TINY, tmp_path / "split", progress=False, device="cpu", stop_after=3)
    assert not (tmp_path / "split" / "dbn.pt").exists()
    resumed = pretrain_dbn(TINY, tmp_path / "split", progress=False, device="cpu")
    for a, b in zip(full.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(a, b)
    assert partial.log and [r["stage"] for r in full.log] == ["rbm1", "rbm1", "rbm2", "rbm2"]
    assert full.log[1]["train_reconstruction_mse"] < full.log[0]["train_reconstruction_mse"]
    meta = json.loads((tmp_path / "full" / "dbn.json").read_text())
    assert meta["config"]["sizes"] == [1024, 64, 32] and meta["seed"] == 0 and "patches" in meta["data"]
    assert not (tmp_path / "full" / "dbn_checkpoint.pt").exists()
    loaded = load_dbn(tmp_path / "full" / "dbn.pt")
    assert torch.equal(loaded.rbms[1].W, full.model.rbms[1].W.cpu())


def test_bad_weight_files_are_clear_errors(tmp_path):
    with pytest.raises(DataError, match="pretrain-dbn"):
        load_dbn(tmp_path / "absent.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(DataError):
        load_dbn(bad)
    torch.save({"config": json.dumps({"sizes": [1024, 8], "patch": 32}), "state_dict": {}}, tmp_path / "empty.pt")
    with pytest.raises(DataError, match="not a DBN weight file"):
        load_dbn(tmp_path / "empty.pt")


def test_pretrain_dbn_command_in_fast_mode(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DEEPTRACK_FAST", "1")
    assert main(["pretrain-dbn", "--out", str(tmp_path), "--sizes", "1024,32,16", "--epochs", "1"]) == 0
    meta = json.loads((tmp_path / "dbn.json").read_text())
    assert meta["command"].startswith("python -m deeptrack_lite pretrain-dbn --out")
    assert (tmp_path / "dbn_log.csv").read_text().count("\n") == 3  # header + one epoch per RBM
    assert "validation reconstruction MSE" in capsys.readouterr().out


def test_shipped_weights_were_made_by_the_recorded_command_with_the_default_settings():
    meta = json.loads(DEFAULT_DBN.with_suffix(".json").read_text())
    assert meta["command"] == "python -m deeptrack_lite pretrain-dbn --out deeptrack_lite/weights"
    defaults = json.loads(json.dumps(DBNPretrainConfig().__dict__))
    assert meta["config"] == defaults
    model = load_dbn()
    assert model.sizes == tuple(defaults["sizes"])
    # pretraining did something: it reconstructs natural patches better than a fresh DBN of small random weights
    from deeptrack_lite.data.patches import natural_patches
    from deeptrack_lite.models.sdae import standardize_patches
    x = standardize_patches(torch.from_numpy(natural_patches(300, 32, seed=99)))
    fresh = DBN(model.sizes)
    for rbm in fresh.rbms:
        rbm.reset(torch.Generator().manual_seed(0))
    from deeptrack_lite.training.dbn import stack_mse
    assert stack_mse(model, x, 1) < 0.5 * stack_mse(fresh, x, 1)


@pytest.mark.slow
def test_the_dbn_tracker_is_dlts_pipeline_with_another_representation(small_sequence):
    # one pipeline: the DBN tracker overrides no step of DLT's, only which pretrained encoder it starts from
    own = set(DBNTracker.__dict__) - {"__module__", "__doc__", "__qualname__", "__firstlineno__", "__static_attributes__"}
    assert issubclass(DBNTracker, DLTTracker) and own == {"PARAMS", "REPRESENTATION", "name"}
    assert set(DBNTracker.PARAMS) == set(DLTTracker.PARAMS)
    net = dlt_network(representation="dbn")
    assert torch.equal(net.encoder[0].weight, load_dbn().rbms[0].W)
    assert not torch.equal(dlt_network().encoder[0].weight[:, :5], net.encoder[0].weight[:, :5])
    run = track(create_tracker("dbn", device="cpu"), small_sequence, progress=False)
    assert np.isfinite(run.boxes).all()
