"""Batched crop-and-resize in torch: many boxes of one frame to fixed-size patches in one call.

This is the shared image-to-network step of every learned tracker (IVT's patches, the discriminative
tracker's samples, DLT's particles, MDNet's candidates): no per-candidate Python loop, on any device.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .images import as_rgb_image


def image_to_tensor(image, device=None) -> torch.Tensor:
    """H x W x 3 uint8 RGB (numpy) -> 1 x 3 x H x W float32 in [0, 1] on ``device``."""
    if isinstance(image, torch.Tensor):
        t = image
        if t.dim() == 3:
            t = t.unsqueeze(0)
        return t.to(device=device, dtype=torch.float32)
    arr = as_rgb_image(image)
    t = torch.from_numpy(np.ascontiguousarray(arr)).to(device)
    return t.permute(2, 0, 1).unsqueeze(0).float().div_(255.0)


def image_size(image) -> tuple[int, int]:
    """(width, height) of an H x W x 3 array or a (1 x) C x H x W tensor."""
    return (image.shape[-1], image.shape[-2]) if isinstance(image, torch.Tensor) else (image.shape[1], image.shape[0])


def crop_and_resize(image, boxes, size, *, padding: str = "border", device=None) -> torch.Tensor:
    """Crop every (x, y, w, h) box of ``image`` and resize it to ``size`` (an int or (height, width)).

    ``image`` is an H x W x 3 uint8 array or a 1 x C x H x W tensor; returns N x C x h x w float32 (values
    in [0, 1] for uint8 input), bilinear. Box edges are continuous coordinates: a box (x, y, w, h) covers
    pixels x .. x + w. Parts outside the image are filled by ``padding`` ("border": the nearest edge pixel;
    "zeros").
    """
    img = image_to_tensor(image, device)
    dev = img.device
    # float32 where the boxes are (a particle filter's float64 state is on the CPU), then to the image's device
    b = (boxes.detach().to(torch.float32) if isinstance(boxes, torch.Tensor)
         else torch.from_numpy(np.asarray(boxes, dtype=np.float32))).to(dev).reshape(-1, 4)
    out_h, out_w = (size, size) if isinstance(size, int) else size
    H, W = img.shape[-2:]
    n = b.shape[0]
    theta = torch.zeros(n, 2, 3, device=dev)
    theta[:, 0, 0] = b[:, 2] / W
    theta[:, 0, 2] = (2 * b[:, 0] + b[:, 2]) / W - 1
    theta[:, 1, 1] = b[:, 3] / H
    theta[:, 1, 2] = (2 * b[:, 1] + b[:, 3]) / H - 1
    grid = F.affine_grid(theta, (n, img.shape[1], out_h, out_w), align_corners=False)
    return F.grid_sample(img.expand(n, -1, -1, -1), grid, mode="bilinear", padding_mode=padding, align_corners=False)
