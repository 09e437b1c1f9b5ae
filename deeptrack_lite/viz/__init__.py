"""Drawing boxes on frames, frame grids and the frame-player widget used across the notebooks."""
from .draw import PALETTE, draw_boxes, show_frames
from .player import frame_player

__all__ = ["PALETTE", "draw_boxes", "frame_player", "show_frames"]
