"""The survey's figures, redrawn by the package: no image files from the paper.

- :func:`features_by_layer` (survey Fig. 1, "the features extracted by a neural network"): the bundled
  ImageNet network run on a real picture; for each depth, the maps that respond most, and at the end the
  network's ImageNet answer;
- :func:`dlt_diagram` (Fig. 2, DLT's components): (a) a denoising autoencoder, (b) the stacked denoising
  autoencoder and its greedy training, (c) the online tracking network;
- :func:`fcnt_diagram` (Fig. 3, FCNT's pipeline): ROI, two conv layers, feature-map selection, GNet and SNet,
  the distractor test;
- :func:`mdnet_diagram` (Fig. 5, MDNet's structure): shared layers and K domain-specific branches.

The diagrams take the sizes they show as arguments, so a notebook passes the ones of the models it actually
loaded (layer sizes, numbers of maps and branches) and the figure cannot disagree with the code.
"""
from __future__ import annotations

import numpy as np

# colours by role, the same in every diagram
DATA, SHARED, TRAINED_ONLINE, DECISION = "#dbe9f6", "#fde2c4", "#d5efd5", "#f2d7ee"


def _box(ax, x, y, w, h, text, colour, fontsize=8.5, **kw):
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.08", fc=colour, ec="0.3",
                                lw=1, **kw))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=fontsize, wrap=True)
    return (x, y, w, h)


def _arrow(ax, start, end, text=None, colour="0.25", style="-|>", fontsize=7.5, offset=(0, 0.12), ls="-"):
    ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle=style, color=colour, lw=1.2, ls=ls,
                                                          shrinkA=2, shrinkB=2))
    if text:
        ax.text((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1], text, ha="center",
                va="bottom", fontsize=fontsize, color=colour)


def _right(b):
    return (b[0] + b[2], b[1] + b[3] / 2)


def _left(b):
    return (b[0], b[1] + b[3] / 2)


def _legend(ax, items, loc="lower right"):
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(fc=c, ec="0.3", label=t) for t, c in items], loc=loc, fontsize=7.5, frameon=False)


def _canvas(width, height, figsize, ax=None):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    return ax


# ------------------------------------------------------------------------------------------------- Fig. 1
STAGES = {"stem": (None, 2), "block 2": (2, 4), "block 4": (4, 8), "block 10": (10, 16), "block 15": (15, 32)}
"""Lite0's stage ends: name -> (block index, stride)."""


def stage_features(image, net=None, device="cpu") -> dict:
    """{stage: (C x h x w feature maps, stride)} of Lite0 at the end of each stage of :data:`STAGES`, for an
    H x W x 3 uint8 picture resized to 224 x 224 (the network's ImageNet input), and ``"logits"``: the
    ImageNet scores."""
    import torch

    from ..crops import crop_and_resize
    from ..features import efficientnet_lite0

    net = (net or efficientnet_lite0()).to(device).eval()
    x = net.normalize(crop_and_resize(image, [[0, 0, image.shape[1], image.shape[0]]], 224, device=device))
    out = {}
    with torch.no_grad():
        h = net.stem_layers()(x)
        out["stem"] = (h[0], STAGES["stem"][1])
        for i, block in enumerate(net.blocks):
            h = block(h)
            for name, (index, stride) in STAGES.items():
                if index == i:
                    out[name] = (h[0], stride)
        out["logits"] = net(x)[0]
    return out


def features_by_layer(image, *, maps_per_stage: int = 3, class_names: dict | None = None, device="cpu",
                      title: str = "features extracted by a CNN (EfficientNet-Lite0, ImageNet weights), layer by layer"):
    """Survey Fig. 1 from the bundled ImageNet network: the picture, then for each depth the ``maps_per_stage``
    maps with the largest mean activation (each on its own colour scale), then the top ImageNet classes.
    Returns the figure."""
    import matplotlib.pyplot as plt
    import torch

    feats = stage_features(image, device=device)
    stages = [s for s in STAGES if s in feats]
    fig, axes = plt.subplots(maps_per_stage, len(stages) + 2, figsize=(2.1 * (len(stages) + 2), 2.1 * maps_per_stage),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    axes[maps_per_stage // 2, 0].imshow(image)
    axes[maps_per_stage // 2, 0].set_title("input picture", fontsize=9)
    for col, stage in enumerate(stages, start=1):
        maps, stride = feats[stage]
        strongest = torch.argsort(maps.mean(dim=(1, 2)), descending=True)[:maps_per_stage]
        for row, k in enumerate(strongest):
            axes[row, col].imshow(maps[k].cpu().numpy(), cmap="magma")
            axes[row, col].set_title(f"map {int(k)}", fontsize=7.5)
        axes[0, col].set_title(f"{stage}: {maps.shape[0]} maps,\nstride {stride}\nmap {int(strongest[0])}", fontsize=8)
    probs = torch.softmax(feats["logits"], dim=0)
    top = torch.topk(probs, 3)
    names = class_names or {}
    text = "\n".join(f"{names.get(int(i), f'class {int(i)}')}: {float(p):.2f}" for p, i in zip(top.values, top.indices))
    ax = axes[maps_per_stage // 2, -1]
    ax.text(0.05, 0.5, "ImageNet answer\n(top 3)\n\n" + text, fontsize=8.5, va="center", transform=ax.transAxes)
    fig.suptitle(title + "\nleft: early layers, fine maps of colours and edges; right: late layers, coarse maps of "
                 "object parts", fontsize=9)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------------- Fig. 2
def dlt_diagram(sizes=(1024, 512, 256, 128), patch: int = 32, threshold: float = 0.9, ax=None):
    """Survey Fig. 2, DLT's components, for an SDAE with layer ``sizes`` (input first) on ``patch`` x ``patch``
    grey patches, and update threshold ``threshold``."""
    ax = _canvas(15, 6.4, (15, 6.4), ax)
    ax.text(0.1, 6.15, "(a) a denoising autoencoder", fontsize=10, weight="bold")
    noisy = _box(ax, 0.2, 4.3, 1.5, 1.1, f"corrupted\npatch\n{patch}x{patch}", DATA)
    code = _box(ax, 2.4, 4.45, 1.2, 0.8, f"code\n{sizes[1]}", SHARED)
    recon = _box(ax, 4.3, 4.3, 1.6, 1.1, "reconstruction", DATA)
    clean = _box(ax, 4.3, 2.9, 1.6, 0.9, "clean patch", DATA)
    _arrow(ax, _right(noisy), _left(code), "encode")
    _arrow(ax, _right(code), _left(recon), "decode")
    _arrow(ax, (5.1, 3.8), (5.1, 4.3), None, style="<->")
    ax.text(5.3, 4.0, "loss", fontsize=7.5)

    ax.text(6.6, 6.15, "(b) stacked denoising autoencoder, trained layer by layer", fontsize=10, weight="bold")
    x = 6.7
    layer_boxes = []
    for i, n in enumerate(sizes):
        height = 0.6 + 2.2 * n / max(sizes)
        b = _box(ax, x, 4.3 - height / 2, 0.95, height, f"{n}", DATA if i == 0 else SHARED)
        layer_boxes.append(b)
        if i:
            _arrow(ax, _right(layer_boxes[i - 1]), _left(b), f"step {i}", offset=(0, 0.05))
        x += 1.75
    ax.text(6.7, 2.45, f"greedy: layer k learns to denoise the codes of layer k-1 (frozen); then the whole stack is\n"
            f"fine-tuned end to end. Pretrained off-line on natural {patch}x{patch} grey patches, never on the target.",
            fontsize=7.5)

    ax.text(0.1, 2.3, "(c) the online tracking network", fontsize=10, weight="bold")
    cands = _box(ax, 0.2, 0.35, 1.7, 1.3, "particle-filter\ncandidates\n(grey, 32x32)".replace("32x32", f"{patch}x{patch}"), DATA)
    enc = _box(ax, 2.5, 0.35, 2.2, 1.3, "encoder\n" + " - ".join(str(s) for s in sizes), SHARED)
    cls = _box(ax, 5.3, 0.55, 1.5, 0.9, "sigmoid\nclassifier", TRAINED_ONLINE)
    best = _box(ax, 7.4, 0.45, 2.2, 1.1, "most confident\ncandidate = new box", DECISION)
    upd = _box(ax, 10.3, 0.45, 3.0, 1.1, f"best confidence < {threshold}?\nthen fine-tune again\n(limited-threshold update)",
               DECISION)
    _arrow(ax, _right(cands), _left(enc))
    _arrow(ax, _right(enc), _left(cls))
    _arrow(ax, _right(cls), _left(best), "confidence")
    _arrow(ax, _right(best), _left(upd))
    _arrow(ax, (11.8, 0.45), (4.0, 0.3), "update encoder + classifier", style="-|>", offset=(0, -0.42), ls="--")
    _legend(ax, [("data", DATA), ("pretrained off-line", SHARED), ("trained online", TRAINED_ONLINE),
                 ("decision", DECISION)], loc="upper right")
    return ax


# ------------------------------------------------------------------------------------------------- Fig. 3
def fcnt_diagram(low: str = "conv4_3", high: str = "conv5_3", maps_low: int = 512, maps_high: int = 512,
                 select_low: int = 384, select_high: int = 384, backbone: str = "VGG16", ax=None):
    """Survey Fig. 3, FCNT's pipeline, for a backbone with ``maps_*`` maps at its two taps of which the
    selection keeps ``select_*`` (defaults: the paper's VGG16 numbers; a notebook passes its own)."""
    ax = _canvas(15, 5.6, (15, 5.6), ax)
    frame = _box(ax, 0.1, 2.2, 1.5, 1.2, "frame t", DATA)
    roi = _box(ax, 2.1, 2.2, 1.7, 1.2, "ROI around\nthe last\nposition", DATA)
    cnn = _box(ax, 4.3, 1.6, 1.7, 2.4, f"{backbone}\n(ImageNet,\nfixed)", SHARED)
    lo = _box(ax, 6.6, 3.3, 1.8, 1.0, f"{low}\n{maps_low} maps", SHARED)
    hi = _box(ax, 6.6, 1.3, 1.8, 1.0, f"{high}\n{maps_high} maps", SHARED)
    sel_lo = _box(ax, 9.0, 3.3, 1.9, 1.0, f"selection:\nkeep {select_low}", TRAINED_ONLINE)
    sel_hi = _box(ax, 9.0, 1.3, 1.9, 1.0, f"selection:\nkeep {select_high}", TRAINED_ONLINE)
    snet = _box(ax, 11.4, 3.3, 1.5, 1.0, "SNet\n(updated)", TRAINED_ONLINE)
    gnet = _box(ax, 11.4, 1.3, 1.5, 1.0, "GNet\n(fixed)", TRAINED_ONLINE)
    dec = _box(ax, 13.3, 2.0, 1.6, 1.6, "distractor\nin GNet's map?\nyes: SNet\nno: GNet", DECISION, fontsize=7.5)
    _arrow(ax, _right(frame), _left(roi))
    _arrow(ax, _right(roi), _left(cnn))
    _arrow(ax, (6.0, 3.5), _left(lo))
    _arrow(ax, (6.0, 2.1), _left(hi))
    _arrow(ax, _right(lo), _left(sel_lo))
    _arrow(ax, _right(hi), _left(sel_hi))
    _arrow(ax, _right(sel_lo), _left(snet))
    _arrow(ax, _right(sel_hi), _left(gnet))
    _arrow(ax, _right(snet), (13.3, 3.2), "heat map", offset=(0, 0.05))
    _arrow(ax, _right(gnet), (13.3, 2.4), "heat map", offset=(0, -0.35))
    ax.text(6.6, 4.75, "lower layer: detail that tells instances apart", fontsize=7.5)
    ax.text(6.6, 0.85, "higher layer: semantics, the object's category", fontsize=7.5)
    ax.text(9.0, 0.3, "first frame: each selection network regresses the target's heat map;\n"
            "maps are ranked by the second-order change of its loss when switched off", fontsize=7.5)
    _legend(ax, [("data", DATA), ("pretrained, fixed", SHARED), ("trained on the first frame", TRAINED_ONLINE),
                 ("decision", DECISION)], loc="upper left")
    return ax


# ------------------------------------------------------------------------------------------------- Fig. 5
def mdnet_diagram(n_domains: int = 14, shared_conv: str = "conv1-conv3", fc_units: int = 512, input_size: int = 107,
                  ax=None):
    """Survey Fig. 5, MDNet's structure: shared layers (``shared_conv``, fc4, fc5 with ``fc_units``) and
    ``n_domains`` domain-specific binary branches; online, the branches are replaced by one new fc6."""
    ax = _canvas(15, 6.0, (15, 6.0), ax)
    inp = _box(ax, 0.1, 2.3, 1.5, 1.4, f"{input_size} x {input_size}\nwindow", DATA)
    conv = _box(ax, 2.1, 1.8, 2.6, 2.4, f"shared conv\n{shared_conv}", SHARED)
    fc4 = _box(ax, 5.2, 2.2, 1.3, 1.6, f"fc4\n{fc_units}", SHARED)
    fc5 = _box(ax, 7.0, 2.2, 1.3, 1.6, f"fc5\n{fc_units}", SHARED)
    _arrow(ax, _right(inp), _left(conv))
    _arrow(ax, _right(conv), _left(fc4))
    _arrow(ax, _right(fc4), _left(fc5))
    shown = list(range(1, min(n_domains, 4) + 1))
    ys = np.linspace(4.8, 0.6, len(shown) + 1)
    for y, k in zip(ys, shown + [n_domains]):
        b = _box(ax, 9.4, y - 0.3, 1.5, 0.6, f"fc6^{k}", DECISION, fontsize=8)
        _arrow(ax, _right(fc5), _left(b))
        ax.text(11.1, y, f"domain {k}: target vs background", va="center", fontsize=7.5)
    ax.text(10.1, (ys[-2] + ys[-1]) / 2, "...", ha="center", va="center", fontsize=14)
    ax.text(2.1, 5.3, f"shared layers: trained on all {n_domains} domains (one video each)", fontsize=9, weight="bold")
    ax.text(9.4, 5.45, f"{n_domains} domain-specific branches", fontsize=9, weight="bold")
    ax.text(2.1, 0.5, "each training iteration uses one domain: its branch and the shared layers get the gradient.\n"
            "Online: the branches are dropped, a new fc6 is trained on the first frame, and fc4-fc6 are updated.",
            fontsize=7.5)
    _legend(ax, [("input", DATA), ("shared", SHARED), ("one per domain", DECISION)], loc="lower right")
    return ax


__all__ = ["STAGES", "dlt_diagram", "fcnt_diagram", "features_by_layer", "mdnet_diagram", "stage_features"]
