import numpy as np
import pytest
import torch

from deeptrack_lite import runtime
from deeptrack_lite.errors import DeepTrackError, DeviceError


def test_device_auto_prefers_the_best_available(monkeypatch):
    monkeypatch.delenv("DEEPTRACK_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else ("mps" if runtime._mps_available() else "cpu")
    assert runtime.device().type == expected
    assert runtime.device("auto").type == expected


def test_device_order_is_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.delenv("DEEPTRACK_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(runtime, "_mps_available", lambda: True)
    assert runtime.available_devices() == ["mps", "cpu"]
    assert runtime.device().type == "mps"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert runtime.device().type == "cuda"


def test_argument_and_environment_override(monkeypatch):
    monkeypatch.setenv("DEEPTRACK_DEVICE", "cpu")
    assert runtime.device().type == "cpu"
    assert runtime.device(torch.device("cpu")).type == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("DEEPTRACK_DEVICE", "cuda")
    with pytest.raises(DeviceError, match="CUDA"):
        runtime.device()
    assert runtime.device("cpu").type == "cpu"  # the argument wins over the environment


def test_unavailable_or_bogus_devices_are_clear_errors(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceError):
        runtime.device("cuda")
    with pytest.raises(DeepTrackError):
        runtime.device("toaster")


def test_seed_everything_makes_all_generators_repeat():
    g1 = runtime.seed_everything(7)
    a = (np.random.rand(), torch.rand(3), g1.random())
    g2 = runtime.seed_everything(7)
    b = (np.random.rand(), torch.rand(3), g2.random())
    assert a[0] == b[0] and torch.equal(a[1], b[1]) and a[2] == b[2]


@pytest.mark.parametrize("value,expected", [("1", True), ("true", True), ("", False), ("0", False), ("no", False)])
def test_fast_mode_reads_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("DEEPTRACK_FAST", value)
    assert runtime.fast_mode() is expected


def test_describe_environment_names_versions_and_device():
    info = runtime.describe_environment()
    assert info["torch"] == torch.__version__
    assert info["device"].split()[0] in ("cpu", "cuda", "mps")


def test_adam_takes_the_same_steps_as_torchs_loop():
    import torch

    from deeptrack_lite.runtime import adam

    gen = torch.Generator().manual_seed(0)
    a = [torch.nn.Parameter(torch.randn(30, 20, generator=gen)), torch.nn.Parameter(torch.randn(20, generator=gen))]
    b = [torch.nn.Parameter(p.detach().clone()) for p in a]
    opt_a = adam([{"params": a[:1], "lr": 1e-2}, {"params": a[1:], "lr": 1e-1}], weight_decay=1e-3)
    opt_b = torch.optim.Adam([{"params": b[:1], "lr": 1e-2}, {"params": b[1:], "lr": 1e-1}], weight_decay=1e-3)
    for _ in range(5):
        grads = [torch.randn(p.shape, generator=gen) for p in a]
        for params, opt in ((a, opt_a), (b, opt_b)):
            for p, g in zip(params, grads):
                p.grad = g.clone()
            opt.step()
    assert all(torch.allclose(p, q, atol=1e-6) for p, q in zip(a, b))


def test_conv_memory_format_is_channels_last_on_the_cpu():
    import torch

    from deeptrack_lite.runtime import conv_memory_format

    assert conv_memory_format("cpu") == torch.channels_last
