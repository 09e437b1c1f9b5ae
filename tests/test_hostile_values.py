"""Issue 36: every bad value is a clear error. Property-style: each class (parameter values, seeds, presence files,
weight provenance, downloads and checksum files) is fed many malformed variants, and each must be one
DeepTrackError that names what was wrong, or be handled correctly."""
import hashlib
import json
import math

import numpy as np
import pytest
import torch

import deeptrack_lite as dtl
from deeptrack_lite import fileio
from deeptrack_lite.data.download import download, extract_archive, read_sha256sums
from deeptrack_lite.errors import DataError, DeepTrackError, DownloadError, TrackerError
from deeptrack_lite.trackers import Tracker, available_trackers, create_tracker, register_tracker, tracker_class
from deeptrack_lite.trackers.parameters import MAX_SEED, check_params, is_number, rule
from deeptrack_lite.trackers.presence import calibrated_thresholds

# values no declared rule may accept for a number (NaN, inf, text, a bool, a container, a huge negative)
NOT_A_NUMBER = [float("nan"), float("inf"), "abc", True, [1, 2], {"a": 1}, -1e18]


def _package_trackers() -> list[str]:
    """The package's own trackers (other test modules register test doubles too)."""
    return [n for n in available_trackers() if tracker_class(n).__module__.startswith("deeptrack_lite.")]


def _declared():
    for name in _package_trackers():
        for param, entry in tracker_class(name).PARAMS.items():
            yield name, param, entry


def test_every_parameter_declares_a_rule_its_default_follows():
    for name, param, entry in _declared():
        assert len(entry) == 3, f"{name}.{param} declares no rule"
        default, _, spec = entry
        assert rule(spec).accepts(default) or default is None and "None" in spec, (name, param, spec, default)


@pytest.mark.parametrize("name", [n for n in _package_trackers() if tracker_class(n).PARAMS])
def test_malformed_values_of_every_parameter_are_refused_naming_tracker_and_parameter(name):
    for param, (default, _, spec) in tracker_class(name).PARAMS.items():
        checker = rule(spec)
        for bad in NOT_A_NUMBER + ["", 1.5 if "int" in spec else None]:
            if checker.accepts(bad):
                continue  # e.g. "path" takes text, "None or ..." takes None, "float" takes -1e18
            with pytest.raises(TrackerError, match=f"{name}: parameter {param} must be "):
                check_params(name, tracker_class(name).PARAMS, {param: bad})


@pytest.mark.parametrize("tracker, params, says", [
    ("template", {"search": -1}, "template: parameter search must be float >= 0, got -1"),
    ("template", {"search": "abc"}, "parameter search must be float >= 0, got 'abc'"),
    ("particle_filter", {"n_particles": -5}, "particle_filter: parameter n_particles must be int >= 1, got -5"),
    ("particle_filter", {"n_particles": 2.5}, "n_particles must be int >= 1, got 2.5"),
    ("template", {"match": "sad"}, "match must be one of ncc, ssd, got 'sad'"),
    ("hcf", {"layers": ["stride2"]}, "layers must be tuple of one of stride4, stride8, stride16"),
    ("sodlt", {"box_level": 1.5}, "box_level must be one of adaptive or float in (0, 1), got 1.5"),
    ("kcf", {"max_patch_size": -3}, "kcf: parameter max_patch_size must be None or int >= 0"),
    ("template", {"no_such": 1}, "unknown parameter(s) no_such"),
])
def test_the_issues_examples_name_tracker_parameter_and_accepted_values(tracker, params, says):
    with pytest.raises(TrackerError) as info:
        create_tracker(tracker, device="cpu", **params)
    assert says in str(info.value)


def test_good_values_of_other_types_still_pass():
    assert create_tracker("template", device="cpu", search=2).params["search"] == 2     # an int for a float
    assert create_tracker("siamfc", device="cpu", scales=[1.0]).params["scales"] == [1.0]  # a list for a tuple
    assert create_tracker("particle_filter", device="cpu", n_particles=np.int64(50)).params["n_particles"] == 50


@pytest.mark.parametrize("seed", [1.7, -1, 2 ** 70, MAX_SEED + 1, True, "3", None, float("nan")])
def test_bad_seeds_are_refused_everywhere(seed, tmp_path):
    with pytest.raises(TrackerError, match="seed must be a whole number from 0 to 2\\*\\*63 - 1"):
        create_tracker("template", seed=seed)
    with pytest.raises(TrackerError, match="seed must be a whole number"):
        dtl.evaluation.run_ope(["template"], dtl.data.synthetic_benchmark(n_frames=5, names=["CupHide"]),
                               tmp_path, seeds=[0, seed], progress=False)


def test_good_seeds_of_numpy_type_and_the_largest_are_accepted():
    assert create_tracker("template", seed=np.int64(5)).seed == 5
    assert create_tracker("particle_filter", seed=MAX_SEED).seed == MAX_SEED


@pytest.mark.parametrize("threshold", [float("nan"), "abc", [1, 2], True, "0.5"])
def test_bad_presence_thresholds_are_refused(threshold):
    with pytest.raises(TrackerError, match="presence_threshold must be a number"):
        create_tracker("template", presence_threshold=threshold)


class _OldStyleTracker(Tracker):
    """A tracker written outside the package before rules existed: ``PARAMS`` holds (default, help) pairs."""
    PARAMS = {"gain": (0.5, "how much to move")}

    def _init(self, image, box):
        self._box = box

    def _update(self, image):
        return self._box


def test_a_tracker_declaring_parameters_without_rules_still_works_unchecked():
    register_tracker("test_old_style")(_OldStyleTracker)
    t = create_tracker("test_old_style", device="cpu", gain="anything")  # no rule, so not checked
    assert t.params["gain"] == "anything"
    assert "gain = 0.5 (not checked: no rule declared): how much to move" in tracker_class("test_old_style").help()
    with pytest.raises(TrackerError, match="unknown parameter"):
        create_tracker("test_old_style", device="cpu", gian=1)  # a misspelt name is still refused


def test_one_number_rule_for_parameters_and_thresholds():
    assert [is_number(v) for v in (1, 2.5, np.float32(1), np.int64(3))] == [True] * 4
    assert not any(is_number(v) for v in (True, np.bool_(True), "1", None, float("nan"), float("inf"), [1]))
    assert is_number(-math.inf, finite=False) and not is_number(float("nan"), finite=False)


def test_one_sha256_rule_for_provenance_files_and_downloads():
    assert fileio.is_sha256("aB" * 32) and not fileio.is_sha256("a" * 63) and not fileio.is_sha256("g" * 64)
    assert not fileio.is_sha256(None) and not fileio.is_sha256(" " + "a" * 64)


def test_infinite_presence_thresholds_are_decisions():
    assert create_tracker("template", presence_threshold=-math.inf).presence_threshold == -math.inf
    assert create_tracker("template", presence_threshold=5).presence_threshold == 5.0


PRESENCE_FILES = [
    "not json", "[1, 2]", "null", '{"thresholds": [1, 2]}', '{"thresholds": null}', '{"other": {}}',
    '{"thresholds": {"kcf": 3}}', '{"thresholds": {"kcf": {}}}', '{"thresholds": {"kcf": {"threshold": "abc"}}}',
    '{"thresholds": {"kcf": {"threshold": [1, 2]}}}', '{"thresholds": {"kcf": {"threshold": NaN}}}',
    '{"thresholds": {"kcf": {"threshold": Infinity}}}', '{"thresholds": {"kcf": {"threshold": true}}}',
]


@pytest.mark.parametrize("text", PRESENCE_FILES)
def test_malformed_presence_files_are_one_clear_error(text, tmp_path):
    path = tmp_path / "presence.json"
    path.write_text(text)
    with pytest.raises(DataError, match="not a presence calibration file"):
        calibrated_thresholds(path)


def test_a_folder_or_a_binary_file_as_presence_file(tmp_path):
    with pytest.raises(DataError, match="is a folder"):
        calibrated_thresholds(tmp_path)
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(DataError, match="not a presence calibration file"):
        calibrated_thresholds(tmp_path / "bin.json")
    good = tmp_path / "good.json"
    good.write_text('{"thresholds": {"kcf": {"threshold": 0.5}, "csrt": {"threshold": null}}}')
    assert calibrated_thresholds(good) == {"kcf": 0.5, "csrt": None}


def _weight_file(folder, provenance):
    path = folder / "w.pt"
    torch.save({"w": torch.zeros(3)}, path)
    if provenance is not None:
        (folder / "w.json").write_text(provenance(hashlib.sha256(path.read_bytes()).hexdigest())
                                       if callable(provenance) else provenance)
    return path


@pytest.mark.parametrize("provenance", [
    "not json", "[1, 2]", "{}", '{"sha256": ""}', '{"sha256": null}', '{"sha256": 5}', '{"sha256": "abc"}',
    lambda h: json.dumps({"sha256": h[:-1] + "g"}),
])
def test_the_weights_check_cannot_be_skipped(provenance, tmp_path):
    with pytest.raises(DataError, match="records no SHA-256|cannot be read"):
        fileio.load_torch_file(_weight_file(tmp_path, provenance), "test weights")


def test_an_upper_case_hash_matches_and_a_wrong_one_is_refused(tmp_path):
    path = _weight_file(tmp_path, lambda h: json.dumps({"sha256": h.upper()}))
    assert torch.equal(fileio.load_torch_file(path, "test weights")["w"], torch.zeros(3))
    (tmp_path / "w.json").write_text(json.dumps({"sha256": "0" * 64}))
    with pytest.raises(DataError, match="does not match the SHA-256"):
        fileio.load_torch_file(path, "test weights")


def test_a_shipped_file_without_its_hash_is_refused_and_a_users_file_loads(tmp_path, monkeypatch):
    path = _weight_file(tmp_path, None)
    assert fileio.load_torch_file(path, "test weights")["w"].shape == (3,)   # the user's own file: no provenance
    monkeypatch.setattr(fileio, "_PACKAGE_DIR", tmp_path)                    # as if it shipped in the package
    with pytest.raises(DataError, match="ships with the package but w.json"):
        fileio.load_torch_file(path, "test weights")


def test_every_shipped_weight_file_records_its_hash():
    for pt in sorted(fileio.WEIGHTS_DIR.glob("*.pt")):
        assert fileio.recorded_sha256(pt) == fileio.sha256_of(pt), pt.name


def test_downloads_and_archives_fail_with_one_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DeepTrackError, match="is a file, not a folder"):
        download("http://127.0.0.1:9/a.zip", blocker / "sub" / "a.zip", sha256="0" * 64)
    with pytest.raises(DownloadError, match="must be 64 hex digits"):
        download("http://127.0.0.1:9/a.zip", tmp_path / "a.zip", sha256="abc")
    (tmp_path / "dir.zip").mkdir()   # into tmp_path, under the URL's name, where a folder is in the way
    with pytest.raises(DownloadError, match="it exists and is not a file"):
        download("http://127.0.0.1:9/dir.zip", tmp_path, sha256="0" * 64)
    with pytest.raises(DownloadError, match="no archive at"):
        extract_archive(tmp_path / "missing.zip", tmp_path / "out")
    import zipfile
    with zipfile.ZipFile(tmp_path / "ok.zip", "w") as zf:
        zf.writestr("seq/groundtruth_rect.txt", "1,2,3,4\n")
    with pytest.raises(DeepTrackError, match="is a file, not a folder"):
        extract_archive(tmp_path / "ok.zip", blocker)


@pytest.mark.parametrize("text", ["hello world\n", "abc  file.zip\n", f"{'0' * 64}\n", f"{'0' * 64}file.zip\n",
                                  "<html><body>404</body></html>\n"])
def test_a_file_that_is_not_a_sums_file_is_refused_naming_the_line(text, tmp_path):
    path = tmp_path / "SHA256SUMS"
    path.write_text(f"{'a' * 64}  good.zip\n" + text)
    with pytest.raises(DownloadError, match="line 2"):
        read_sha256sums(path)


def test_a_sums_file_as_sha256sum_writes_it(tmp_path):
    path = tmp_path / "SHA256SUMS"
    path.write_text(f"{'A' * 64}  a b.zip\n\n{'b' * 64} *bin.tar\n")
    assert read_sha256sums(path) == {"a b.zip": "a" * 64, "bin.tar": "b" * 64}
    with pytest.raises(DownloadError, match="cannot read the checksum file"):
        read_sha256sums(tmp_path / "missing")
