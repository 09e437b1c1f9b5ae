"""Test doubles for the benchmark's isolation: trackers that hang, kill their own process or raise.

A module of their own (not a test module) so that a child process or a Dask worker that runs them imports
only this, by the name the tests pickled them under."""
import os
import signal
import time

from deeptrack_lite.trackers import Tracker, register_tracker


class _FailsOnUpdate(Tracker):
    """Starts like any tracker; what goes wrong is in each double's ``_update``."""

    deterministic = True

    def _init(self, image, box):
        self._box = box


@register_tracker("test_hang", "test double: never returns from its first update (like OpenCV MIL on a tiny box)")
class HangTracker(_FailsOnUpdate):
    def _update(self, image):
        while True:
            time.sleep(0.05)


@register_tracker("test_suicide", "test double: kills its own process on the first update")
class SuicideTracker(_FailsOnUpdate):
    def _update(self, image):
        os.kill(os.getpid(), signal.SIGKILL)


@register_tracker("test_raise", "test double: raises on the first update")
class RaisingTracker(_FailsOnUpdate):
    def _update(self, image):
        raise RuntimeError("boom")
