"""Online extras, always explicit: checksummed, resumable downloads and safe archive extraction.

Nothing in the package downloads on its own. ``download`` streams a file with a progress bar, checks its
SHA-256 before the file takes its final name, and ``extract_archive`` refuses any member that would land
outside the target folder (absolute paths, ``..``, links pointing out, device files).
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from ..errors import DownloadError
from ..fileio import is_sha256, make_folder, sha256_of  # sha256_of: also data.sha256_of

# Official OTB archive location (the OTB toolkit's configuration). The site has gone offline more than
# once; pass base_url=... for a mirror.
OTB_BASE_URL = "http://cvlab.hanyang.ac.kr/tracker_benchmark/seq/"

# SHA-256 of official OTB archives that the project has verified itself. None could be fetched from the
# machine this package was written on (no internet there), so the table starts empty: pass your own
# checksums, or download once with unverified_ok=True and pin what SHA256SUMS records.
OTB_SHA256: dict[str, str] = {}


def default_data_dir() -> Path:
    """Where downloads go: ``$DEEPTRACK_DATA``, else the repository's ``data/`` folder when running
    from a clone, else ``~/.cache/deeptrack_lite``."""
    env = os.environ.get("DEEPTRACK_DATA")
    if env:
        return Path(env).expanduser()
    repo_data = Path(__file__).resolve().parents[2] / "data"
    if (repo_data / "README.md").is_file():
        return repo_data
    return Path.home() / ".cache" / "deeptrack_lite"


def download(url: str, dest, *, sha256: str | None, unverified_ok: bool = False, progress: bool = True,
             timeout: float = 30.0) -> Path:
    """Download ``url`` to ``dest`` (a file path, or a folder to keep the URL's file name).

    ``sha256`` is required: the file is streamed to ``<dest>.part``, hashed on the way, and renamed only
    if the hash matches (else :class:`DownloadError`, and the partial file is removed). An existing file
    with the right hash is not downloaded again. ``sha256=None`` is accepted only with
    ``unverified_ok=True``; the computed hash is then available as ``sha256_of(path)`` to pin later.
    """
    if sha256 is None and not unverified_ok:
        raise DownloadError(f"no SHA-256 given for {url}; pass sha256=... (or unverified_ok=True to accept "
                            "the file unchecked and record its hash)")
    if sha256 is not None and not is_sha256(sha256):
        raise DownloadError(f"sha256 for {url} must be 64 hex digits, got {sha256!r}")
    dest = Path(dest)
    if dest.is_dir() or str(dest).endswith(("/", os.sep)):
        name = PurePosixPath(urllib.parse.urlparse(url).path).name or "download"
        dest = dest / name
    make_folder(dest.parent)
    if dest.exists() and not dest.is_file():
        raise DownloadError(f"cannot download {url} to {dest}: it exists and is not a file")
    expected = sha256.lower() if sha256 else None
    if dest.is_file() and (expected is None or sha256_of(dest) == expected):
        return dest
    part = dest.with_name(dest.name + ".part")
    digest = hashlib.sha256()
    received = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            bar = None
            if progress:
                from tqdm.auto import tqdm
                bar = tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, leave=False)
            with open(part, "wb") as fh:
                while True:
                    block = response.read(1 << 16)
                    if not block:
                        break
                    fh.write(block)
                    digest.update(block)
                    received += len(block)
                    if bar is not None:
                        bar.update(len(block))
            if bar is not None:
                bar.close()
        if total is not None and received != total:  # a cut connection: even an unverified file must be whole
            raise DownloadError(f"download of {url} is incomplete: {received} of the {total} bytes announced "
                                "arrived; the partial file was discarded")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        part.unlink(missing_ok=True)
        if isinstance(exc, DownloadError):
            raise
        reason = f"HTTP {exc.code} {exc.reason}" if isinstance(exc, urllib.error.HTTPError) else getattr(exc, "reason", exc)
        raise DownloadError(f"download of {url} failed: {reason}") from exc
    except BaseException:  # Ctrl-C or any other interruption: no .part left behind
        part.unlink(missing_ok=True)
        raise
    got = digest.hexdigest()
    if expected is not None and got != expected:
        part.unlink(missing_ok=True)
        raise DownloadError(f"checksum mismatch for {url}: expected sha256 {expected}, got {got}; the file was discarded")
    os.replace(part, dest)
    return dest


def _check_member(name: str, target: Path, archive: Path) -> Path:
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or (pure.parts and pure.parts[0].endswith(":")):
        raise DownloadError(f"{archive}: refusing member {name!r}: it would be written outside {target}")
    out = (target / pure).resolve()
    if out != target and target not in out.parents:
        raise DownloadError(f"{archive}: refusing member {name!r}: it would be written outside {target}")
    return out


def extract_archive(archive, target) -> Path:
    """Extract a .zip or .tar(.gz/.bz2/.xz) archive into ``target``, after checking every member.

    Any member with an absolute path, a ``..`` component, a link that points outside ``target``, or a
    device file makes the whole extraction fail with :class:`DownloadError` before anything is written.
    """
    archive, target = Path(archive), Path(target)
    if not archive.is_file():
        raise DownloadError(f"no archive at {archive}" + (" (it is a folder)" if archive.is_dir() else ""))
    target = make_folder(target).resolve()
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    _check_member(info.filename, target, archive)
                    if (info.external_attr >> 16) & 0o170000 == 0o120000:
                        raise DownloadError(f"{archive}: refusing symbolic link member {info.filename!r}")
                zf.extractall(target)
            return target
        if tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                members = tf.getmembers()
                for m in members:
                    out = _check_member(m.name, target, archive)
                    if m.issym() or m.islnk():
                        link = (out.parent / m.linkname) if m.issym() else (target / m.linkname)
                        _check_member(os.path.relpath(link.resolve(), target), target, archive)
                    elif not (m.isfile() or m.isdir()):
                        raise DownloadError(f"{archive}: refusing special file member {m.name!r}")
                if hasattr(tarfile, "data_filter"):
                    tf.extractall(target, members=members, filter="data")
                else:  # pragma: no cover - Python < 3.11.4
                    tf.extractall(target, members=members)
            return target
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        raise DownloadError(f"{archive}: damaged archive ({exc})") from exc
    except OSError as exc:  # reading the archive, or writing a member (a full disk, a file in the way)
        if isinstance(exc, DownloadError):
            raise
        raise DownloadError(f"cannot extract {archive} into {target}: {exc.strerror or exc}"
                            + (f" ({exc.filename})" if exc.filename else "")) from None
    raise DownloadError(f"{archive}: not a zip or tar archive")


def read_sha256sums(path) -> dict[str, str]:
    """Parse a ``SHA256SUMS`` file (``<hash>  <file name>`` per line, as ``sha256sum`` writes it; ``*`` marks
    binary mode) into {file name: lower-case hash}. A line of any other form is a :class:`DownloadError`
    naming it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DownloadError(f"cannot read the checksum file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    sums = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = re.fullmatch(r"\s*([0-9a-fA-F]{64}) [ *](.+)", line.rstrip())
        if m is None:
            raise DownloadError(f"{path}, line {number}: {line[:80]!r} is not '<64 hex digits>  <file name>', "
                                "a line of a SHA256SUMS file")
        sums[m.group(2)] = m.group(1).lower()
    return sums


def download_otb(names, root=None, *, base_url: str = OTB_BASE_URL, checksums: dict | None = None,
                 unverified_ok: bool = False, progress: bool = True, keep_archives: bool = False) -> list[Path]:
    """Download OTB sequences by their official archive names (``"Basketball"`` -> ``Basketball.zip``).

    Each archive is checked against ``checksums`` ({name or file name: sha256}), then the package's own
    table; with neither, ``unverified_ok=True`` is needed, and the computed hashes are appended to
    ``<root>/SHA256SUMS`` so later downloads can pass ``checksums=read_sha256sums(...)``. Sequences
    already extracted are skipped, so an interrupted call resumes. Returns the sequence folders; load
    them with ``load_dataset(root)``.
    """
    root = make_folder(Path(root) if root is not None else default_data_dir() / "otb")
    names = [names] if isinstance(names, str) else list(names)
    checksums = {**OTB_SHA256, **(checksums or {})}
    base = base_url if base_url.endswith("/") else base_url + "/"
    folders = []
    for name in names:
        folder = root / name
        if folder.is_dir() and list(folder.glob("groundtruth_rect*.txt")):
            folders.append(folder)
            continue
        expected = checksums.get(name) or checksums.get(f"{name}.zip")
        if expected is None and not unverified_ok:
            raise DownloadError(f"no SHA-256 known for OTB sequence {name!r}; pass checksums={{{name!r}: '<sha256>'}} "
                                "or unverified_ok=True")
        archive = download(base + urllib.parse.quote(name) + ".zip", root / f"{name}.zip", sha256=expected,
                           unverified_ok=unverified_ok, progress=progress)
        staging = root / f".{name}.extracting"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            extract_archive(archive, staging)
            inner = staging / name if (staging / name).is_dir() else staging
            if not list(inner.glob("groundtruth_rect*.txt")):
                raise DownloadError(f"{archive}: no groundtruth_rect.txt inside; is {name!r} an OTB sequence?")
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            if expected is None:  # an unverified archive that was refused is not kept for the next try
                archive.unlink(missing_ok=True)
            raise
        if expected is None:  # only an archive that extracted into a sequence is recorded, and only once
            _record_sha256(root / "SHA256SUMS", archive)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(inner, folder)
        shutil.rmtree(staging, ignore_errors=True)
        if not keep_archives:
            archive.unlink(missing_ok=True)
        folders.append(folder)
    return folders


def _record_sha256(sums_file: Path, archive: Path) -> None:
    """Add ``archive``'s hash to a SHA256SUMS file (replacing an older line for the same name), atomically."""
    from ..fileio import atomic_write_text

    sums = read_sha256sums(sums_file) if sums_file.is_file() else {}
    sums[archive.name] = sha256_of(archive)
    atomic_write_text(sums_file, "".join(f"{digest}  {name}\n" for name, digest in sums.items()))
