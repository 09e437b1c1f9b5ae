"""The CNN backbones: the bundled EfficientNet-Lite0 weights load right (ImageNet classes of scikit-image's
pictures), the taps have the promised shapes and strides, and VGG16 loads from a local file or a
checksummed download."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from deeptrack_lite.crops import image_to_tensor
from deeptrack_lite.errors import DataError, DownloadError
from deeptrack_lite.features.backbones import VGG16, Conv2dSame, backbone, download_vgg16


def _imagenet_input(name):
    import skimage.data

    img = image_to_tensor(getattr(skimage.data, name)())
    return F.interpolate(img, size=(224, 224), mode="bilinear", align_corners=False, antialias=True)


@pytest.mark.parametrize("picture,classes", [("chelsea", range(281, 286)), ("coffee", [967])])
def test_bundled_efficientnet_weights_recognise_imagenet_classes(picture, classes):
    """chelsea is a cat (ImageNet 281-285: tabby, tiger cat, Persian, Siamese, Egyptian cat); coffee is
    an espresso (967). Wrong padding, BatchNorm eps or input scaling would break this."""
    probs = backbone("efficientnet_lite0", device="cpu").classify(_imagenet_input(picture)).softmax(dim=1)[0]
    assert int(probs.argmax()) in classes
    assert float(probs[list(classes)].sum()) > 0.5


def test_taps_have_the_documented_channels_and_strides():
    b = backbone("efficientnet_lite0", device="cpu")
    maps = b.features(torch.rand(2, 3, 128, 160))
    assert maps["low"].shape == (2, b.tap("low").channels, 128 // 16, 160 // 16)
    assert maps["high"].shape == (2, b.tap("high").channels, 128 // 32, 160 // 32)
    assert b.stride("low") == 16 and b.stride("high") == 32
    assert backbone("efficientnet_lite0", device="cpu") is b  # cached: loaded once per process
    assert not any(p.requires_grad for p in b.net.parameters())  # frozen


def test_tf_same_padding_matches_tensorflow_output_sizes():
    conv = Conv2dSame(1, 1, 3, stride=2, bias=False)
    for size in (7, 8, 224, 225):
        assert conv(torch.zeros(1, 1, size, size)).shape[-1] == -(-size // 2)  # ceil(size / 2)


@pytest.fixture(scope="module")
def vgg_features_file(tmp_path_factory):
    """A VGG16 state dict with the convolutional layers only (the taps need nothing else), seeded."""
    torch.manual_seed(0)
    net = VGG16(classifier=False)
    path = tmp_path_factory.mktemp("vgg") / "vgg16-conv.pth"
    torch.save(net.state_dict(), path)
    return path, net.features[28].weight.detach().clone()


def test_vgg16_loads_from_a_local_file_with_fcnt_taps(vgg_features_file):
    path, conv5_3 = vgg_features_file
    b = backbone("vgg16", device="cpu", weights=path)
    assert torch.equal(b.net.features[28].weight, conv5_3)
    maps = b.features(torch.rand(1, 3, 96, 128))
    assert maps["low"].shape == (1, 512, 12, 16) and maps["high"].shape == (1, 512, 6, 8)  # conv4_3, conv5_3
    assert (b.tap("low").name, b.tap("high").name) == ("conv4_3", "conv5_3")
    with pytest.raises(DataError, match="no classifier"):
        b.classify(torch.rand(1, 3, 64, 64))


def test_bad_backbone_requests_are_clear_errors(tmp_path):
    with pytest.raises(DataError, match="unknown backbone"):
        backbone("resnet50")
    with pytest.raises(DataError, match="download_vgg16"):
        backbone("vgg16", weights=tmp_path / "absent.pth")
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not weights")
    with pytest.raises(DataError, match="cannot load"):
        backbone("vgg16", weights=junk)
    wrong = tmp_path / "wrong.pth"
    torch.save({"features.0.weight": torch.zeros(1)}, wrong)
    with pytest.raises(DataError):
        backbone("vgg16", weights=wrong)


def test_vgg16_download_checks_the_published_hash_prefix(server, tmp_path):
    import hashlib

    base, www, _ = server
    payload = np.arange(1000, dtype=np.int64).tobytes()
    (www / "vgg16-fake.pth").write_bytes(payload)
    prefix = hashlib.sha256(payload).hexdigest()[:8]
    got = download_vgg16(tmp_path / "ok.pth", url=base + "vgg16-fake.pth", sha256_prefix=prefix, progress=False)
    assert got.read_bytes() == payload
    with pytest.raises(DownloadError, match="does not start with"):
        download_vgg16(tmp_path / "bad.pth", url=base + "vgg16-fake.pth", sha256_prefix="00000000", progress=False)
    assert not (tmp_path / "bad.pth").exists() and (tmp_path / "bad.pth.bad").exists()
