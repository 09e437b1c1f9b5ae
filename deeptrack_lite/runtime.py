"""Where computations run and how reproducible they are.

- :func:`device` picks CUDA, then Apple MPS, then the CPU. An explicit argument wins, then the
  environment variable ``DEEPTRACK_DEVICE``; ``"auto"`` (or nothing) means the first available.
- :func:`seed_everything` seeds Python, NumPy and torch (all devices) in one call.
- :func:`fast_mode` is the single switch (``DEEPTRACK_FAST=1``) that makes notebooks, benchmarks and
  training use smaller sequences and fewer iterations; the tests set it.
"""
from __future__ import annotations

import os
import platform
import random
from typing import Union

import numpy as np
import torch

from .errors import DeviceError

DeviceLike = Union[str, torch.device, None]

_TRUE = {"1", "true", "yes", "on"}


def fast_mode() -> bool:
    """True when ``DEEPTRACK_FAST`` is set to 1/true/yes/on (read at every call, never cached)."""
    return os.environ.get("DEEPTRACK_FAST", "").strip().lower() in _TRUE


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def available_devices() -> list[str]:
    """Device types usable here, best first; ``"cpu"`` is always last."""
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    if _mps_available():
        found.append("mps")
    return found + ["cpu"]


def device(preferred: DeviceLike = None) -> torch.device:
    """The torch device to compute on.

    ``preferred`` may be ``None``/``"auto"`` (then ``DEEPTRACK_DEVICE`` if set, else CUDA, MPS, CPU in
    that order), a type such as ``"cuda"`` or ``"cpu"``, an indexed device such as ``"cuda:1"``, or a
    ``torch.device``. Asking for a device that is not available raises :class:`DeviceError`.
    """
    if preferred is None or (isinstance(preferred, str) and preferred.strip().lower() in ("", "auto")):
        preferred = os.environ.get("DEEPTRACK_DEVICE", "auto").strip().lower() or "auto"
        if preferred == "auto":
            return torch.device(available_devices()[0])
    try:
        dev = torch.device(preferred)
    except (RuntimeError, TypeError) as exc:
        raise DeviceError(f"not a device name: {preferred!r} (use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps')") from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError("CUDA was requested but torch sees no CUDA GPU here; use device='auto' or 'cpu'")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceError(f"{dev} was requested but only {torch.cuda.device_count()} CUDA device(s) exist")
    elif dev.type == "mps" and not _mps_available():
        raise DeviceError("Apple MPS was requested but is not available here; use device='auto' or 'cpu'")
    elif dev.type not in ("cpu", "cuda", "mps"):
        raise DeviceError(f"unsupported device type {dev.type!r}")
    return dev


def conv_memory_format(dev: DeviceLike = None) -> torch.memory_format:
    """The memory layout MDNet's conv layers run in on ``dev``:
    channels-last on the CPU, where oneDNN's depthwise and 1 x 1 convolutions run about 20% faster in it
    (EfficientNet-Lite0 on a 384 x 384 region, 2 cores: 56 -> 43 ms, median of 40); the default layout elsewhere."""
    return torch.channels_last if device(dev).type == "cpu" else torch.contiguous_format


def adam(params, **kwargs) -> torch.optim.Adam:
    """``torch.optim.Adam`` with torch's fused kernel where it has one for the parameters' device (a step on
    MDNet's fc4-fc6, 1.7 M weights, takes 1.2 ms instead of 8.5 ms on a 2-core CPU), the loop otherwise.
    The online trackers' optimizer; the same update rule either way."""
    # lists, not generators (``net.parameters()``, also inside groups): the fallback must see them again
    params = [dict(g, params=list(g["params"])) if isinstance(g, dict) else g for g in params]
    try:
        return torch.optim.Adam(params, fused=True, **kwargs)
    except (RuntimeError, TypeError, ValueError):  # no fused kernel for this device or dtype
        return torch.optim.Adam(params, **kwargs)


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python's ``random``, NumPy's legacy global state and torch on every device.

    Returns a fresh ``numpy.random.Generator`` seeded the same way, the preferred source of
    randomness inside the package.
    """
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return np.random.default_rng(seed)


def host_float64(values) -> torch.Tensor:
    """``values`` (a tensor on any device, an array or a list) as a float64 tensor on the CPU.

    The one way the package gets float64 torch tensors: moved to the CPU first, converted there, because
    Apple's MPS has no float64. Used where double precision matters (particle weights, the ridge solve)."""
    if isinstance(values, torch.Tensor):
        return values.detach().to("cpu").to(torch.float64)
    return torch.as_tensor(np.asarray(values, dtype=np.float64))


def describe_environment() -> dict[str, str]:
    """Versions and hardware, for the welcome notebook and for every reported speed figure."""
    import cv2
    import matplotlib
    import skimage

    dev = device()
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "scikit-image": skimage.__version__,
        "matplotlib": matplotlib.__version__,
        "device": device_name(dev),
        "torch threads": str(torch.get_num_threads()),
        "fast mode": str(fast_mode()),
    }
    return info


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far, in MiB (what a 2 GB Binder session must fit in)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return float("nan")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if platform.system() == "Darwin" else 1)


def device_name(dev: DeviceLike = None) -> str:
    """A human-readable name of a device, e.g. ``"cuda (NVIDIA H100)"`` or ``"cpu (2 cores)"``."""
    dev = device(dev)
    if dev.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(dev)})"
    if dev.type == "cpu":
        return f"cpu ({os.cpu_count()} cores, {platform.processor() or platform.machine()})"
    return dev.type
