"""Networks trained off-line and shipped as weight files, handed to trackers: each file is read once per process
and every tracker gets its own copy of the network (so two trackers never share, or disturb, one module)."""
from __future__ import annotations

from functools import lru_cache
from typing import Callable


def pretrained_loader(load: Callable) -> Callable:
    """From ``load(path, device="cpu") -> (network, settings)`` (``path`` None: the shipped file), a function
    ``(weights=None, device="cpu") -> (a fresh network in eval mode on device, settings)`` that reads each file once.
    The network class must rebuild itself from ``network.config()``."""

    @lru_cache(maxsize=4)
    def read(path):
        net, settings = load(path, device="cpu")
        return type(net), net.config(), {k: v.clone() for k, v in net.state_dict().items()}, settings

    def fresh(weights=None, device="cpu"):
        cls, config, state, settings = read(None if weights is None else str(weights))
        net = cls(**config)
        net.load_state_dict(state)
        return net.to(device).eval(), settings

    return fresh


__all__ = ["pretrained_loader"]
