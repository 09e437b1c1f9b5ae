"""What ImageNet feature maps know about a tracking target: the measurements behind FCNT's three observations.

1. Maps localise: :func:`target_energy_share` per map (how much of a map's energy lies on the target).
2. Many maps are noise for a given target: the distribution of those shares against the target's share of
   the image area (:func:`noise_maps`).
3. High layers are category-level, low layers instance-level: :func:`instance_vs_category` trains a heat-map
   regressor per layer on one coin and asks it, in a new scene, whether it prefers that coin over another
   coin (same category, another instance) and over an object of another category.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from ..crops import image_to_tensor
from ..models.fcnt import SelectionNet, fit_heatmap, gaussian_heatmap


def frame_features(backbone, image, taps=("low", "high")) -> dict:
    """{tap: C x h x w} feature maps of a whole frame (H x W x 3 uint8) from a :class:`Backbone`."""
    maps = backbone.features(image_to_tensor(image, backbone.device), taps)
    return {k: v[0] for k, v in maps.items()}


def box_mask(shape_hw, stride: int, box) -> torch.Tensor:
    """Boolean h x w mask of the feature cells whose centers (``(i + 0.5) * stride`` pixels) lie in ``box``."""
    h, w = shape_hw
    x, y, bw, bh = [float(v) for v in box]
    ys = (torch.arange(h) + 0.5) * stride
    xs = (torch.arange(w) + 0.5) * stride
    return ((ys >= y) & (ys <= y + bh)).view(h, 1) & ((xs >= x) & (xs <= x + bw)).view(1, w)


def target_energy_share(maps: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per map (C values): the share of its energy (sum of squared activations) inside ``mask``.

    A map that ignores the target has about the target's share of the area, ``mask.float().mean()``;
    a map that localises it has much more."""
    energy = maps.float() ** 2
    total = energy.sum(dim=(1, 2)).clamp_min(1e-12)
    return (energy * mask.to(energy.device)).sum(dim=(1, 2)) / total


def noise_maps(shares: torch.Tensor, area_share: float, factor: float = 1.5) -> torch.Tensor:
    """Boolean per map: True where the map puts less than ``factor`` times the target's area share of its
    energy on the target, i.e. it does not single the target out."""
    return shares < factor * area_share


# ---------------------------------------------------------------------------------------------- observation 3
@lru_cache(maxsize=1)
def coin_instances(max_side: int = 64) -> tuple:
    """The coins of scikit-image's ``coins`` picture, each as an RGBA float32 patch with a round outline:
    many instances of one category."""
    import cv2
    import skimage.data
    from scipy import ndimage
    from skimage import filters, measure

    from ..data.pictures import soft_ellipse

    grey = skimage.data.coins().astype(np.float32) / 255.0
    smooth = filters.gaussian(grey, 2)
    labels = measure.label(ndimage.binary_fill_holes(smooth > filters.threshold_otsu(smooth)))
    patches = []
    for region in measure.regionprops(labels):
        y0, x0, y1, x1 = region.bbox
        h, w = y1 - y0, x1 - x0
        if not (30 <= h <= 80 and 30 <= w <= 80 and abs(h - w) < 15):  # one coin, not a merged row
            continue
        rgb = np.repeat(grey[y0:y1, x0:x1, None], 3, axis=2)
        s = max_side / max(h, w)
        rgb = cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
        alpha = soft_ellipse(*rgb.shape[:2])[..., None]
        patches.append(np.concatenate([rgb, alpha], axis=2).astype(np.float32))
    return tuple(patches)


def compose_scene(background: str, objects, frame_size=(320, 240), seed: int = 0):
    """A frame: the named scikit-image picture as background, cropped at random, with RGBA ``objects``
    pasted at their top-left ``(x, y)`` positions: ``objects`` is [(patch, (x, y)), ...]. Returns the
    H x W x 3 uint8 frame and the N x 4 boxes (x, y, w, h) of the objects."""
    import cv2

    from ..data.pictures import skimage_picture

    W, H = frame_size
    bg = skimage_picture(background)[..., :3]
    scale = max(W / bg.shape[1], H / bg.shape[0]) * 1.2
    bg = cv2.resize(bg, (int(bg.shape[1] * scale) + 1, int(bg.shape[0] * scale) + 1))
    rng = np.random.default_rng(seed)
    oy, ox = rng.integers(0, bg.shape[0] - H + 1), rng.integers(0, bg.shape[1] - W + 1)
    frame = bg[oy:oy + H, ox:ox + W].copy()
    boxes = []
    for patch, (x, y) in objects:
        h, w = patch.shape[:2]
        x, y = int(round(x)), int(round(y))
        a = patch[..., 3:4]
        frame[y:y + h, x:x + w] = a * patch[..., :3] + (1 - a) * frame[y:y + h, x:x + w]
        boxes.append([x, y, w, h])
    return np.clip(frame * 255 + 0.5, 0, 255).astype(np.uint8), np.asarray(boxes, dtype=np.float64)


def instance_vs_category(backbone, n_trials: int = 6, *, other: str = "cup", background: str = "grass",
                         steps: int = 150, seed: int = 0) -> dict:
    """FCNT's third observation, measured. In each trial, coin A is shown alone in a training frame; a
    linear heat-map regressor per layer (FCNT's selection network) learns a Gaussian at A. In a test frame
    with A, another coin B (same category) and an object of another category (``other``) at new places,
    each layer's heat map is read at the three objects (its maximum inside each box).

    Returns {layer: {"target", "same_category", "other_category": N responses, "picks_target": share of
    trials where A beats B}}, and "scenes": the first trial's frames and boxes for display."""
    from ..data.synthetic import target_patch

    coins = coin_instances()
    rng = np.random.default_rng(seed)
    other_patch = target_patch(other, max_side=64)
    out = {layer: {"target": [], "same_category": [], "other_category": []} for layer in ("low", "high")}
    slots = [(40, 40), (200, 30), (120, 150), (30, 160), (230, 150)]
    for trial in range(n_trials):
        a, b = rng.choice(len(coins), 2, replace=False)
        pos = rng.permutation(len(slots))
        train, train_box = compose_scene(background, [(coins[a], slots[pos[0]])], seed=seed + trial)
        test, test_boxes = compose_scene(background, [(coins[a], slots[pos[1]]), (coins[b], slots[pos[2]]),
                                                      (other_patch, slots[pos[3]])], seed=seed + trial + 100)
        f_train, f_test = frame_features(backbone, train), frame_features(backbone, test)
        for layer in ("low", "high"):
            stride = backbone.stride(layer)
            maps = f_train[layer]
            h, w = maps.shape[-2:]
            cx, cy = train_box[0, :2] + train_box[0, 2:] / 2
            target = gaussian_heatmap((h, w), [[cx / stride - 0.5, cy / stride - 0.5]],
                                      np.array([train_box[0, 2:] / stride * 0.2]), device=maps.device)
            scale = maps.pow(2).mean().sqrt()
            torch.manual_seed(seed + trial)
            net = SelectionNet(maps.shape[0], dropout=0.0).to(maps.device)
            fit_heatmap(net, maps[None] / scale, target, steps, lr=1e-4 if layer == "high" else 3e-4)
            with torch.no_grad():
                heat = net(f_test[layer][None] / scale)[0, 0]
            for key, box in zip(("target", "same_category", "other_category"), test_boxes):
                out[layer][key].append(float(heat[box_mask(heat.shape, stride, box)].max()))
        if trial == 0:
            out["scenes"] = {"train": train, "train_box": train_box[0], "test": test, "test_boxes": test_boxes}
    for layer in ("low", "high"):
        r = {k: np.asarray(v) for k, v in out[layer].items()}
        r["picks_target"] = float(np.mean(r["target"] > r["same_category"]))
        out[layer] = r
    return out


__all__ = ["box_mask", "coin_instances", "compose_scene", "frame_features", "instance_vs_category", "noise_maps",
           "target_energy_share"]
