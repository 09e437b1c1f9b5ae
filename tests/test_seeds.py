"""Randomness is part of the tracker contract: one seed fixes one run, seeds make runs differ, nothing global
carries state between tracker instances, and float64 stays on the CPU (Apple's MPS has none)."""
import inspect
import threading
from pathlib import Path

import numpy as np
import pytest

from conftest import slow_for
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import deeptrack_lite
from deeptrack_lite.errors import TrackerError
from deeptrack_lite.evaluation import run_ope
from deeptrack_lite.evaluation.results import read_result
from deeptrack_lite.trackers import available_trackers, create_tracker, track, tracker_class

STOCHASTIC = ["particle_filter", "dlt", "dbn", "sodlt", "mdnet"]  # from the classic to the deep end


def boxes_of(name, sequence, seed=0, frames=6):
    return track(create_tracker(name, device="cpu", seed=seed), sequence.subsequence(0, frames), progress=False).boxes


@pytest.mark.parametrize("name", slow_for(STOCHASTIC, {"dbn", "dlt", "mdnet", "sodlt"}))
def test_same_seed_same_boxes_other_seed_other_boxes(name, small_sequence):
    a, b, c = boxes_of(name, small_sequence, 0), boxes_of(name, small_sequence, 0), boxes_of(name, small_sequence, 1)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_a_tracker_instance_restarts_its_generators_at_init(small_sequence):
    t = create_tracker("particle_filter", seed=4)
    seq = small_sequence.subsequence(0, 5)
    assert np.array_equal(track(t, seq, progress=False).boxes, track(t, seq, progress=False).boxes)


@pytest.mark.parametrize("name", slow_for(["discriminative", "dlt", "mdnet"], {"mdnet"}))
def test_global_random_state_does_not_reach_a_tracker(name, small_sequence):
    torch.manual_seed(123)
    np.random.seed(7)
    a = boxes_of(name, small_sequence)
    torch.manual_seed(99)
    np.random.seed(1)
    torch.rand(1000)  # move the global generators on
    b = boxes_of(name, small_sequence)
    assert np.array_equal(a, b)


@pytest.mark.slow
def test_two_trackers_in_two_threads_give_the_boxes_they_give_alone(small_sequence):
    names = ["dlt", "mdnet", "discriminative"]
    alone = {n: boxes_of(n, small_sequence, frames=8) for n in names}
    for pair in (("dlt", "mdnet"), ("discriminative", "dlt"), ("mdnet", "mdnet")):
        got, errors = {}, []

        def run(key, name):
            try:
                got[key] = boxes_of(name, small_sequence, frames=8)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(i, n)) for i, n in enumerate(pair)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        for i, n in enumerate(pair):
            assert np.array_equal(got[i], alone[n]), f"{n} beside {pair}"


def test_seeds_reach_the_runs_and_their_spread_reaches_the_report(small_sequence, tmp_path):
    from deeptrack_lite.data import Dataset

    ds = Dataset("one", [small_sequence])
    report = run_ope(["particle_filter", "kcf"], ds, tmp_path, seeds=[0, 1, 2], progress=False)
    boxes = [read_result(tmp_path / "particle_filter" / f"seed{s}", small_sequence)["boxes"] for s in (0, 1, 2)]
    assert not np.array_equal(boxes[0], boxes[1]) and not np.array_equal(boxes[1], boxes[2])
    rows = {r["tracker"]: r for r in report.summary()}
    assert rows["particle_filter"]["success_auc_std"] > 0.001 and rows["kcf"]["success_auc_std"] < 1e-12
    assert "±" in report.table()
    # kcf is deterministic: it ran once and its result stands for the other seeds
    info = read_result(tmp_path / "kcf" / "seed2", small_sequence)["info"]
    assert info["reused_for_seed"] == 2 and info["seed"] == 0


@pytest.mark.slow
def test_the_deterministic_flag_is_true(small_sequence):
    seq = small_sequence.subsequence(0, 6)
    for name in available_trackers():
        cls = tracker_class(name)
        if cls.deterministic and not name.startswith("test_"):
            assert np.array_equal(boxes_of(name, seq, seed=0), boxes_of(name, seq, seed=5)), name


def test_mil_is_marked_not_repeatable_and_the_table_says_so(small_sequence, tmp_path):
    from deeptrack_lite.data import Dataset
    from deeptrack_lite.evaluation import evaluate_ope, write_result

    cls = tracker_class("mil")
    assert not cls.repeatable and not cls.deterministic and "not repeatable" in cls.help()
    write_result(tmp_path / "mil", small_sequence.name, small_sequence.ground_truth, info={"repeatable": False})
    table = evaluate_ope(tmp_path, Dataset("one", [small_sequence])).table()
    assert "mil †" in table and "not repeatable" in table


def test_seed_is_not_a_tracker_setting():
    from deeptrack_lite.evaluation import tracker_specs

    with pytest.raises(TrackerError, match="seeds"):
        tracker_specs("dlt:seed=3")
    with pytest.raises(TrackerError, match="whole number"):
        create_tracker("dlt", seed="one")
    assert create_tracker("dlt", seed=3).seed == 3


# ------------------------------------------------------------------ float64 stays on the CPU
PINNED_TO_CPU = {"runtime.py", "motion/particle_filter.py", "models/box_regression.py"}


class Float64Sites(TorchDispatchMode):
    """Records the package source file behind every op where a float64 tensor is born: an op with a float64
    output and no float64 input (a ``.double()``, a factory with ``dtype=torch.float64``). Arithmetic on a
    float64 tensor that was born on the CPU stays on the CPU, so only the births matter."""

    def __init__(self):
        super().__init__()
        self.sites = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        results = out if isinstance(out, (tuple, list)) else [out]
        inputs = [a for a in torch.utils._pytree.tree_leaves((args, kwargs or {})) if isinstance(a, torch.Tensor)]
        born = not any(a.dtype == torch.float64 for a in inputs)
        if born and any(isinstance(r, torch.Tensor) and r.dtype == torch.float64 for r in results):
            root = Path(deeptrack_lite.__file__).parent
            for frame in inspect.stack(context=0)[1:]:
                path = Path(frame.filename)
                if root in path.parents:
                    self.sites.add(path.relative_to(root).as_posix())
                    break
        return out


@pytest.mark.slow
def test_float64_torch_tensors_come_only_from_code_that_keeps_them_on_the_cpu(small_sequence):
    """Apple's MPS has no float64, and device() picks MPS on a Mac: no tracker may put a float64 tensor on its
    device. The package's float64 tensors are made only where the code pins them to the CPU (the particle
    filter's state, the ridge solve, ``runtime.host_float64``); a ``.double()`` anywhere else fails here."""
    seq = small_sequence.subsequence(0, 4)
    mode = Float64Sites()
    with mode:
        for name in ("particle_filter", "ivt", "dlt", "mdnet", "discriminative"):
            track(create_tracker(name, device="cpu"), seq, progress=False)
    assert mode.sites and mode.sites <= PINNED_TO_CPU, mode.sites - PINNED_TO_CPU


def test_the_particle_filter_lives_on_the_cpu_whatever_the_device():
    from deeptrack_lite.motion import ParticleFilter

    pf = ParticleFilter(20, generator=torch.Generator().manual_seed(0))
    pf.init([10, 10, 20, 20])
    assert pf.particles.device.type == "cpu" and pf.particles.dtype == torch.float64
    box = pf.step(lambda boxes: torch.zeros(len(boxes), dtype=torch.float32))  # a float32 likelihood is accepted
    assert np.all(np.isfinite(box))


def test_seeded_dropout_keeps_1_minus_p_and_scales_and_dropout_off_switches_it():
    import torch

    from deeptrack_lite.models.seeded import Dropout, dropout_off

    drop = Dropout(0.3)
    drop.generator = torch.Generator().manual_seed(0)
    out = drop(torch.ones(200, 500))
    kept = out > 0
    assert abs(kept.float().mean().item() - 0.7) < 0.01
    assert torch.allclose(out[kept], torch.full_like(out[kept], 1 / 0.7))
    drop.generator = torch.Generator().manual_seed(0)
    assert torch.equal(drop(torch.ones(200, 500)), out)          # the mask is the generator's
    with dropout_off([drop]):
        assert torch.equal(drop(torch.ones(3, 4)), torch.ones(3, 4))
    assert drop.training
