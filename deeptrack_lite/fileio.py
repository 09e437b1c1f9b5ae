"""Small file helpers shared by the writers: atomic writes and ordinary permissions."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

#: The package's shipped weight files. One name for them: the code fingerprint counts the weights as part of
#: the code of every module that reads this name (:mod:`deeptrack_lite.fingerprint`).
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


def ordinary_permissions(path, directory: bool = False) -> None:
    """Give a file (0666) or folder (0777) the permissions the umask allows: ``mkstemp`` and ``mkdtemp``
    create private ones, but results and sequences are ordinary files others may read."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, (0o777 if directory else 0o666) & ~mask)


def make_folder(path) -> Path:
    """``mkdir -p``; a path that cannot be a folder (a regular file on the way, no permission) is one
    :class:`~deeptrack_lite.errors.OutputError` naming it."""
    from .errors import OutputError

    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = next((p for p in [path, *path.parents] if p.exists() and not p.is_dir()), None)
        why = f"{blocker} is a file, not a folder" if blocker else (exc.strerror or exc.__class__.__name__)
        raise OutputError(f"cannot create the folder {path}: {why}") from None
    return path


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it, so readers never see half a file
    (an interrupted checkpoint leaves the previous one intact)."""
    path = Path(path)
    make_folder(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        ordinary_permissions(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path, text: str) -> None:
    """Like :func:`atomic_write_bytes`, for text (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_torch_save(obj, path) -> None:
    """``torch.save`` through :func:`atomic_write_bytes`: an interrupted save leaves the previous file intact."""
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def atomic_write_csv(path, rows, fields) -> None:
    """Write dict ``rows`` as CSV with the header ``fields``, atomically (training logs rewritten every epoch)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())


def sha256_of(path) -> str:
    """The SHA-256 of a file, in hex."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_provenance(weights_path, provenance: dict) -> dict:
    """Write ``provenance`` (command, settings, data, figures) beside a weight file as ``<name>.json``, with the
    file's SHA-256, which :func:`load_torch_file` checks on every load. Returns the record written."""
    import json

    record = dict(provenance, sha256=sha256_of(weights_path))
    atomic_write_text(Path(weights_path).with_suffix(".json"), json.dumps(record, indent=2) + "\n")
    return record


_PACKAGE_DIR = Path(__file__).resolve().parent


def is_sha256(text) -> bool:
    """A SHA-256 written as 64 hex digits (either case); the one check for provenance files and downloads."""
    import re

    return isinstance(text, str) and re.fullmatch(r"[0-9a-fA-F]{64}", text) is not None


def recorded_sha256(path) -> str | None:
    """The SHA-256 (lower-case hex) that the provenance file beside ``path`` (``<name>.json``) records, or None
    for a file of the user's that has no provenance file. A provenance file that is not a JSON object holding a
    64-digit hex ``sha256``, and a file shipped inside the package without one, are a
    :class:`~deeptrack_lite.errors.DataError`: the check is never skipped for a file that claims one, or ships."""
    import json

    from .errors import DataError

    path = Path(path)
    meta = path.with_suffix(".json")
    if not meta.exists():
        if _PACKAGE_DIR in path.resolve().parents:
            raise DataError(f"{path} ships with the package but {meta.name} beside it, which records its SHA-256, is "
                            "missing; reinstall the package")
        return None
    try:
        record = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{meta}: the provenance file of {path.name} cannot be read ({exc.__class__.__name__}), so "
                        "the file cannot be checked; restore it or make the weights again") from None
    digest = record.get("sha256") if isinstance(record, dict) else None
    if not is_sha256(digest):
        raise DataError(f"{meta}: the provenance file of {path.name} records no SHA-256 (64 hex digits), so the file "
                        "cannot be checked; restore it or make the weights again")
    return digest.lower()


def load_torch_file(path, what: str, device="cpu"):
    """``torch.load(path, map_location=device, weights_only=True)`` of a weight or checkpoint file.

    When a provenance file beside it (``<name>.json``) exists, or the file ships with the package, the file must
    match the ``sha256`` recorded there (:func:`recorded_sha256`): a damaged or replaced weight file is refused,
    not loaded. A missing, damaged or foreign file is one
    :class:`~deeptrack_lite.errors.DataError` that names it and ``what`` it should hold."""
    import torch

    from .errors import DataError

    path = Path(path)
    if not path.is_file():
        raise DataError(f"no {what} at {path}")
    expected = recorded_sha256(path)
    if expected is not None and sha256_of(path) != expected:
        raise DataError(f"{path} does not match the SHA-256 recorded in {path.with_suffix('.json').name}: the file is "
                        "damaged or was replaced; reinstall the package (shipped weights) or make the file again")
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # a wrong or damaged file: pickle, zip, or an empty file
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        raise DataError(f"cannot load {what} from {path}: {exc.__class__.__name__}{': ' + first if first else ''}") from None


def load_checkpoint(path, device, settings: str):
    """``torch.load`` of a training checkpoint (``weights_only``, onto ``device``) written by a run with the same
    ``settings`` (a string the trainer derives from its configuration and data, stored under "settings").
    A damaged file, or one from other settings, becomes one :class:`DataError` that says what to do."""
    from .errors import DataError

    try:
        ckpt = load_torch_file(path, "training checkpoint", device)
    except DataError as exc:
        raise DataError(f"{exc}; delete it or pass --no-resume") from None
    if not isinstance(ckpt, dict):
        raise DataError(f"{path} is not a training checkpoint (it holds a {type(ckpt).__name__}, not a dict); delete it "
                        "or pass --no-resume") from None
    if ckpt.get("settings") != settings:
        raise DataError(f"{path} was written with other settings or data; give another output folder or --no-resume to "
                        "start over")
    return ckpt
