"""The package's own exception types: the only errors a user sees for bad input.

Every class derives from :class:`DeepTrackError`, so ``except DeepTrackError`` catches all of them;
most also derive from the matching built-in (``ValueError``, ``FileNotFoundError``) so generic
handlers keep working.
"""
from __future__ import annotations


class DeepTrackError(Exception):
    """Base class of every error raised by deeptrack_lite for bad input or a failed operation."""


class DataError(DeepTrackError, ValueError):
    """A sequence, dataset or annotation could not be read as given."""


class AnnotationError(DataError):
    """An annotation file is malformed; the message names the file and the line."""


class NotFoundError(DataError, KeyError):
    """A sequence, tracker or other name that a collection does not hold (also a ``KeyError``)."""

    __str__ = Exception.__str__  # KeyError would quote the message


class FrameError(DataError):
    """A frame is missing or unreadable.

    ``partial_result`` holds whatever was already computed when the error struck (for example the
    boxes a tracking run produced before a broken frame), so nothing computed is lost.
    """

    def __init__(self, message: str, partial_result=None):
        super().__init__(message)
        self.partial_result = partial_result


class BoxError(DeepTrackError, ValueError):
    """A bounding box is malformed: wrong shape, NaN, zero or negative size, or outside the image."""


class ImageError(DeepTrackError, ValueError):
    """An image array has a shape or type no tracker can use."""


class TrackerError(DeepTrackError, ValueError):
    """An unknown tracker name, a bad parameter, or a tracker used before ``init``."""


class DeviceError(DeepTrackError, RuntimeError):
    """The requested compute device is not available."""


class OutputError(DeepTrackError, OSError):
    """A result, weight or video file cannot be written where it was asked to go."""


class DownloadError(DeepTrackError, OSError):
    """A download failed, did not match its checksum, or its archive was unsafe to extract."""
