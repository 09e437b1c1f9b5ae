"""Drawing boxes on frames, frame grids and the frame-player widget used across the notebooks."""
from .draw import PALETTE, attribute_gallery, box_legend, draw_boxes, show_frames
from .player import frame_player, sequence_browser

__all__ = ["PALETTE", "attribute_gallery", "box_legend", "draw_boxes", "frame_player", "sequence_browser", "show_frames"]
