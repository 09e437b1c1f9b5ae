"""The frozen trunk SO-DLT's objectness head and SiamFC's embedding both read: EfficientNet-Lite0's stride-8 and
stride-16 taps. One module of its own, so that a change to either tracker's model leaves the other's stored runs
valid (a stored run is reused only while the code its tracker imports is unchanged: :mod:`deeptrack_lite.fingerprint`).
"""
from __future__ import annotations

import torch

TRUNK_TAPS = ("stride8", "stride16")  # EfficientNet-Lite0 taps: 40 maps at stride 8, 112 at stride 16


def trunk_features(backbone, crops01: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Frozen trunk features of N x 3 x S x S crops in [0, 1]: (stride-8 maps, stride-16 maps)."""
    with torch.no_grad():
        maps = backbone.net.forward_taps(backbone.normalize(crops01.to(backbone.device, torch.float32)), TRUNK_TAPS)
    return maps["stride8"], maps["stride16"]


__all__ = ["TRUNK_TAPS", "trunk_features"]
