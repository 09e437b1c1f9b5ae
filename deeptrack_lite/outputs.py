"""Writing results, reports and plots where a user asked for them: atomically (:mod:`deeptrack_lite.fileio`), and
a write that fails is one :class:`~deeptrack_lite.errors.OutputError` that names the path and says what to do.

A full disk is the common case: every command that writes results resumes from what it has written, so the
message says to free space and run the same command again. The previous file, if any, is left as it was.
(The trackers' own modules use :mod:`~deeptrack_lite.fileio` directly; this one is apart from them so that its
messages are not part of their code fingerprints.)
"""
from __future__ import annotations

import errno
import io
from pathlib import Path

from .errors import OutputError
from .fileio import atomic_write_bytes


def write_failure(path, exc: OSError) -> OutputError:
    """The :class:`OutputError` for a write to ``path`` that raised ``exc``."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return OutputError(f"disk full at {path}; free space and run the same command again to resume")
    if Path(path).is_dir():
        return OutputError(f"cannot write {path}: it is a folder, where a file belongs")
    return OutputError(f"cannot write {path}: {exc.strerror or exc.__class__.__name__}")


def write_bytes(path, data: bytes) -> Path:
    """:func:`~deeptrack_lite.fileio.atomic_write_bytes`, a failed write being one :class:`OutputError`."""
    try:
        atomic_write_bytes(path, data)
    except OutputError:
        raise
    except OSError as exc:
        raise write_failure(path, exc) from None
    return Path(path)


def write_text(path, text: str) -> Path:
    """:func:`write_bytes` for text (UTF-8)."""
    return write_bytes(path, text.encode("utf-8"))


def save_figure(figure, path, **options) -> Path:
    """A matplotlib figure saved through :func:`write_bytes` (the format from ``path``'s suffix)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format=Path(path).suffix.lstrip(".") or "png", **options)
    return write_bytes(path, buffer.getvalue())


__all__ = ["save_figure", "write_bytes", "write_failure", "write_text"]
