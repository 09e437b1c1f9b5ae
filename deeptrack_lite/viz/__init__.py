"""Drawing boxes on frames, frame grids, the frame-player widget used across the notebooks, and videos of runs."""
from .draw import PALETTE, attribute_gallery, box_legend, draw_boxes, filter_grid, show_frames
from .player import frame_player, sequence_browser
from .video import VIDEO_FORMATS, VideoWriter, video_codec

__all__ = ["PALETTE", "VIDEO_FORMATS", "VideoWriter", "attribute_gallery", "box_legend", "draw_boxes", "filter_grid", "frame_player",
           "sequence_browser", "show_frames", "video_codec"]
