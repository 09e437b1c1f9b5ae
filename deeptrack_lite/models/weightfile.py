"""The package's weight-file format for models rebuilt from a small config: SDAE, DBN and SO-DLT's head.

A file holds ``{"config": JSON text, "state_dict": CPU tensors}``, so ``torch.load(weights_only=True)`` reads it
without running code; the provenance (command, settings, data, SHA-256) is written beside it as JSON.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import torch

from ..errors import DataError
from ..fileio import atomic_torch_save, load_torch_file, write_provenance


def save_model_file(path, config: dict, module: torch.nn.Module, provenance: dict | None = None) -> Path:
    """Write ``module``'s weights with the ``config`` that rebuilds it, and the provenance beside them."""
    path = Path(path)
    atomic_torch_save({"config": json.dumps(config),
                       "state_dict": {k: v.detach().cpu() for k, v in module.state_dict().items()}}, path)
    if provenance is not None:
        write_provenance(path, provenance)
    return path


def load_model_file(path, what: str, command: str, build: Callable[[dict], torch.nn.Module], device="cpu"):
    """(module, config) from a file written by :func:`save_model_file`: ``build(config)`` makes the module, the
    weights are loaded into it, and it is returned in eval mode on ``device``. A missing file names the
    ``command`` that makes one; any unreadable file (pickle, zip, keys, shapes) is one :class:`DataError`."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no {what} weights at {path}; make them with `python -m deeptrack_lite {command} --out DIR`")
    state = load_torch_file(path, f"{what} weights", device)
    try:
        config = json.loads(state["config"])
        module = build(config)
        module.load_state_dict(state["state_dict"])
    except Exception as exc:  # bad input, said in one line
        raise DataError(f"{path} is not a{'n' if what[0] in 'AEIOS' else ''} {what} weight file written by "
                        f"{command}: {exc}") from None
    return module.to(device).eval(), config


__all__ = ["load_model_file", "save_model_file"]
