"""Small file helpers shared by the writers: atomic writes and ordinary permissions."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def ordinary_permissions(path, directory: bool = False) -> None:
    """Give a file (0666) or folder (0777) the permissions the umask allows: ``mkstemp`` and ``mkdtemp``
    create private ones, but results and sequences are ordinary files others may read."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, (0o777 if directory else 0o666) & ~mask)


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it, so readers never see half a file
    (an interrupted checkpoint leaves the previous one intact)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
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


def load_checkpoint(path, device, settings: str):
    """``torch.load`` of a training checkpoint (``weights_only``, onto ``device``) written by a run with the same
    ``settings`` (a string the trainer derives from its configuration and data, stored under "settings").
    A damaged file, or one from other settings, becomes one :class:`DataError` that says what to do."""
    import torch

    from .errors import DataError

    try:
        ckpt = torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:
        raise DataError(f"cannot read the checkpoint {path} ({exc.__class__.__name__}); delete it or pass "
                        "--no-resume") from None
    if ckpt.get("settings") != settings:
        raise DataError(f"{path} was written with other settings or data; give another output folder or --no-resume to "
                        "start over")
    return ckpt
