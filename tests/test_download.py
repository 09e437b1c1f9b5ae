"""Downloads against a local HTTP server on loopback: checksums, resumption, safe extraction."""
import hashlib
import io
import tarfile
import zipfile

import pytest

from deeptrack_lite.data import download, download_otb, extract_archive, load_dataset, sha256_of
from deeptrack_lite.data.download import read_sha256sums
from deeptrack_lite.errors import DownloadError


def test_download_checks_sha256_and_skips_a_verified_file(server, tmp_path):
    base, www, log = server
    payload = b"weights" * 1000
    (www / "w.bin").write_bytes(payload)
    digest = hashlib.sha256(payload).hexdigest()
    (tmp_path / "dl").mkdir()
    out = download(base + "w.bin", tmp_path / "dl", sha256=digest, progress=False)  # a folder keeps the URL's name
    assert out.read_bytes() == payload and out.name == "w.bin"
    n = len(log)
    download(base + "w.bin", tmp_path / "dl", sha256=digest, progress=False)
    assert len(log) == n  # already there and verified: no new request


def test_checksum_mismatch_discards_the_file(server, tmp_path):
    base, www, _ = server
    (www / "w.bin").write_bytes(b"tampered")
    with pytest.raises(DownloadError, match="checksum mismatch"):
        download(base + "w.bin", tmp_path / "w.bin", sha256="0" * 64, progress=False)
    assert not (tmp_path / "w.bin").exists() and not (tmp_path / "w.bin.part").exists()


def test_checksum_is_required_unless_explicitly_waived(server, tmp_path):
    base, www, _ = server
    (www / "a.txt").write_bytes(b"a")
    with pytest.raises(DownloadError, match="no SHA-256"):
        download(base + "a.txt", tmp_path, sha256=None)
    assert download(base + "a.txt", tmp_path, sha256=None, unverified_ok=True, progress=False).read_bytes() == b"a"


def test_http_errors_are_download_errors(server, tmp_path):
    base, _, _ = server
    with pytest.raises(DownloadError, match="404|Not Found"):
        download(base + "missing.zip", tmp_path, sha256="0" * 64, progress=False)


def _zip(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize("evil", ["../escape.txt", "/abs/escape.txt", "a/../../escape.txt"])
def test_zip_members_escaping_the_target_are_refused(tmp_path, evil):
    archive = tmp_path / "evil.zip"
    archive.write_bytes(_zip({"ok.txt": "fine", evil: "bad"}))
    with pytest.raises(DownloadError, match="outside"):
        extract_archive(archive, tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists()
    assert not (tmp_path / "out" / "ok.txt").exists()  # checked before anything is written


def test_tar_links_escaping_the_target_are_refused(tmp_path):
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tf:
        info = tarfile.TarInfo("link")
        info.type = tarfile.SYMTYPE
        info.linkname = "../../etc/passwd"
        tf.addfile(info)
    with pytest.raises(DownloadError, match="outside"):
        extract_archive(archive, tmp_path / "out")


def test_tar_gz_extracts(tmp_path):
    archive = tmp_path / "good.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        data = b"hello"
        info = tarfile.TarInfo("dir/file.txt")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    out = extract_archive(archive, tmp_path / "out")
    assert (out / "dir" / "file.txt").read_bytes() == b"hello"


def test_damaged_archive(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(DownloadError):
        extract_archive(bad, tmp_path / "out")


def _otb_zip(name, n=3):
    import cv2
    import numpy as np

    ok, jpg = cv2.imencode(".jpg", np.zeros((20, 30, 3), np.uint8))
    members = {f"{name}/img/{i + 1:04d}.jpg": jpg.tobytes() for i in range(n)}
    members[f"{name}/groundtruth_rect.txt"] = "\n".join("1,1,5,5" for _ in range(n))
    return _zip(members)


def test_download_otb_by_archive_name(server, tmp_path):
    base, www, log = server
    (www / "Basketball.zip").write_bytes(_otb_zip("Basketball"))
    (www / "Bolt.zip").write_bytes(_otb_zip("Bolt", 4))
    digest = sha256_of(www / "Basketball.zip")
    root = tmp_path / "otb"
    with pytest.raises(DownloadError, match="no SHA-256 known"):
        download_otb(["Bolt"], root, base_url=base, progress=False)
    folders = download_otb(["Basketball"], root, base_url=base, checksums={"Basketball": digest}, progress=False)
    assert folders == [root / "Basketball"]
    download_otb("Bolt", root, base_url=base, unverified_ok=True, progress=False)
    assert read_sha256sums(root / "SHA256SUMS") == {"Bolt.zip": sha256_of(www / "Bolt.zip")}
    ds = load_dataset(root)
    assert ds.names == ["Basketball", "Bolt"] and len(ds["Bolt"]) == 4
    n = len(log)
    download_otb(["Basketball", "Bolt"], root, base_url=base, progress=False)  # already there: resumes, no requests
    assert len(log) == n
    assert not list(root.glob("*.zip")) and not list(root.glob(".*extracting"))


def test_a_refused_archive_never_enters_sha256sums_and_leaves_nothing(server, tmp_path):
    base, www, _ = server
    (www / "Fake.zip").write_bytes(_zip({"Fake/readme.txt": "not a sequence"}))
    root = tmp_path / "otb"
    for _ in range(2):  # a retry must not add anything either
        with pytest.raises(DownloadError, match="no groundtruth_rect.txt"):
            download_otb("Fake", root, base_url=base, unverified_ok=True, progress=False)
        assert not (root / "SHA256SUMS").exists()
        assert sorted(p.name for p in root.iterdir()) == []  # no archive, .part or .extracting left
    (www / "Bolt.zip").write_bytes(_otb_zip("Bolt"))
    download_otb("Bolt", root, base_url=base, unverified_ok=True, progress=False)
    import shutil
    shutil.rmtree(root / "Bolt")
    download_otb("Bolt", root, base_url=base, unverified_ok=True, progress=False)  # again: recorded once
    assert (root / "SHA256SUMS").read_text().count("Bolt.zip") == 1


def test_a_body_shorter_than_its_content_length_is_refused_even_unverified(tmp_path):
    import http.server
    import threading

    class Short(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"x" * 400)  # then the connection closes

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Short)
    threading.Thread(target=httpd.handle_request, daemon=True).start()
    try:
        with pytest.raises(DownloadError, match="incomplete|failed"):
            download(f"http://127.0.0.1:{httpd.server_address[1]}/w.bin", tmp_path / "w.bin", sha256=None,
                     unverified_ok=True, progress=False)
    finally:
        httpd.server_close()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_an_interrupted_download_leaves_no_part_file(server, tmp_path, monkeypatch):
    import urllib.request

    base, www, _ = server
    (www / "w.bin").write_bytes(b"x" * 200_000)
    real_urlopen = urllib.request.urlopen

    class Interrupting:
        def __init__(self, response):
            self.response, self.calls = response, 0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.response.close()

        @property
        def headers(self):
            return self.response.headers

        def read(self, n):
            self.calls += 1
            if self.calls == 2:
                raise KeyboardInterrupt
            return self.response.read(n)

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: Interrupting(real_urlopen(url, timeout=timeout)))
    with pytest.raises(KeyboardInterrupt):
        download(base + "w.bin", tmp_path / "w.bin", sha256="0" * 64, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["www"]
