"""Synthetic tracking sequences: the course's embedded, offline default data.

A camera pans over a natural background while a target cut from a natural image moves in front of it.
Every image comes from scikit-image's bundled data, so nothing is downloaded. Each OTB attribute is a
knob between 0 (off) and 1 (strong), and same-looking distractors are a count:

====================  ==============================================================================
knob                  what it does
====================  ==============================================================================
illumination (IV)     global brightness swings plus a moving light/shadow spot over the target
scale_variation (SV)  the target grows and shrinks (up to 2.4x either way at 1.0)
occlusion (OCC)       patches cut from other images pass in front of the target
deformation (DEF)     a non-rigid warp and aspect-ratio breathing of the target
motion_blur (MB)      frames blurred along the target's motion, the faster the longer the kernel
fast_motion (FM)      bursts of motion of more than 20 px per frame (OTB's threshold)
in_plane_rotation     the target turns in the image plane (a full turn at 1.0)
out_of_plane_rotation the target turns about its vertical axis: it narrows and shows its other side
out_of_view (OV)      the target leaves the frame in part (up to 80%) and comes back
absence (OV)          the target leaves the frame entirely for a while (its ground truth is absent: NaN) and
                      comes back; 1.0 keeps it out longest. Long-term trackers must say it is gone
background_clutter    the background is made of pieces of the target's own image
low_resolution (LR)   a small target (OTB: fewer than 400 pixels) in a frame of reduced resolution
distractors (DIS)     copies of the target moving near it
====================  ==============================================================================

Everything is determined by the seed. Ground truth is the tight axis-aligned box of the rendered target
mask (alpha > 0.5), clipped to the frame, computed when the sequence is built; frames are rendered
lazily when read. ``write_otb`` writes a sequence in OTB layout for other toolkits.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import DataError
from ..runtime import fast_mode
from .pictures import skimage_picture, soft_ellipse
from .sequence import Dataset, RenderedFrames, Sequence

# name -> (scikit-image loader, crop (y0, y1, x0, x1) or None for the whole image, crop of the "other
# side" shown during out-of-plane rotation). Crops were chosen by eye on the bundled images.
TARGETS = {
    "cat": ("chelsea", (20, 260, 90, 330), (60, 300, 230, 451)),
    "face": ("astronaut", (25, 175, 160, 290), (180, 330, 150, 280)),
    "cup": ("coffee", (10, 230, 150, 450), (180, 400, 120, 420)),
    "rocket": ("rocket", (110, 420, 270, 360), (110, 420, 360, 450)),
    "coin": ("coins", (165, 240, 305, 384), (20, 90, 10, 80)),
    "wheel": ("colorwheel", None, None),
    "logo": ("logo", None, None),
    "shuttle": ("astronaut", (0, 283, 358, 472), (300, 500, 330, 500)),
}
BACKGROUNDS = ("astronaut", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "retina",
               "camera", "brick", "grass", "gravel", "moon", "chelsea")
OCCLUDER_SOURCES = ("brick", "coffee", "gravel", "immunohistochemistry", "camera", "grass")


def target_patch(name: str, side: str = "front", max_side: int = 96) -> np.ndarray:
    """The RGBA float32 patch of a named target (``side="back"`` for its other side)."""
    if name not in TARGETS:
        raise DataError(f"unknown synthetic target {name!r}; choose one of {', '.join(TARGETS)}")
    source, front, back = TARGETS[name]
    img = skimage_picture(source)
    crop = front if side == "front" else (back or front)
    patch = img if crop is None else img[crop[0]:crop[1], crop[2]:crop[3]]
    if side == "back" and back is None:
        patch = patch[:, ::-1] * np.array([0.8, 0.85, 0.9, 1.0], np.float32)
    h, w = patch.shape[:2]
    s = max_side / max(h, w)
    patch = cv2.resize(np.ascontiguousarray(patch), (max(2, round(w * s)), max(2, round(h * s))), interpolation=cv2.INTER_AREA)
    patch[..., 3] = np.minimum(patch[..., 3], soft_ellipse(*patch.shape[:2]))  # an object-like outline
    return patch


@dataclass(frozen=True)
class SyntheticConfig:
    """Everything that defines a synthetic sequence. Knobs are strengths in [0, 1]."""

    name: str = "synthetic"
    seed: int = 0
    n_frames: int = 120
    frame_size: tuple = (320, 240)  # (width, height)
    target: str = "cat"
    background: str = "astronaut"
    target_size: float = 44.0  # longer side of the target in pixels at scale 1
    speed: float = 2.0  # typical target speed in pixels per frame
    camera_speed: float = 1.0  # typical camera pan speed in pixels per frame
    illumination: float = 0.0
    scale_variation: float = 0.0
    occlusion: float = 0.0
    deformation: float = 0.0
    motion_blur: float = 0.0
    fast_motion: float = 0.0
    in_plane_rotation: float = 0.0
    out_of_plane_rotation: float = 0.0
    out_of_view: float = 0.0
    absence: float = 0.0
    background_clutter: float = 0.0
    low_resolution: float = 0.0
    distractors: int = 0
    noise: float = 2.0  # sensor noise, grey levels
    fps: float = 30.0

    KNOB_TAGS = {
        "illumination": "IV", "scale_variation": "SV", "occlusion": "OCC", "deformation": "DEF",
        "motion_blur": "MB", "fast_motion": "FM", "in_plane_rotation": "IPR",
        "out_of_plane_rotation": "OPR", "out_of_view": "OV", "absence": "OV", "background_clutter": "BC",
        "low_resolution": "LR", "distractors": "DIS",
    }

    def attributes(self) -> frozenset:
        """The OTB tags of the knobs that are switched on."""
        return frozenset(tag for knob, tag in self.KNOB_TAGS.items() if getattr(self, knob) > 0)

    def validate(self) -> None:
        for knob in self.KNOB_TAGS:
            value = getattr(self, knob)
            if knob == "distractors":
                if int(value) != value or not 0 <= value <= 6:
                    raise DataError(f"{self.name}: distractors must be a whole number from 0 to 6, got {value}")
            elif not 0.0 <= float(value) <= 1.0:
                raise DataError(f"{self.name}: knob {knob} must lie in [0, 1], got {value}")
        w, h = self.frame_size
        if w < 64 or h < 64:
            raise DataError(f"{self.name}: frame_size must be at least 64x64, got {w}x{h}")
        if self.n_frames < 2:
            raise DataError(f"{self.name}: n_frames must be at least 2, got {self.n_frames}")
        if self.target not in TARGETS:
            raise DataError(f"{self.name}: unknown target {self.target!r}; choose one of {', '.join(TARGETS)}")
        if self.background not in BACKGROUNDS:
            raise DataError(f"{self.name}: unknown background {self.background!r}; choose one of {', '.join(BACKGROUNDS)}")


def _smooth_noise(rng: np.random.Generator, n: int, n_waves: int = 3, period=(40, 160)) -> np.ndarray:
    """A smooth curve in [-1, 1]: a sum of a few random sinusoids."""
    t = np.arange(n)
    out = np.zeros(n)
    for _ in range(n_waves):
        out += np.sin(2 * np.pi * t / rng.uniform(*period) + rng.uniform(0, 2 * np.pi))
    return out / n_waves


def _motion_blur(image: np.ndarray, velocity, strength: float) -> np.ndarray:
    """Blur along the direction of motion; the kernel grows with speed (3 px + 1.2 x speed at 1.0)."""
    speed = float(np.linalg.norm(velocity))
    length = int(round(strength * (3 + 1.2 * speed)))
    if length < 2 or speed < 1e-6:
        return image
    d = np.asarray(velocity, dtype=np.float64) / speed
    kernel = np.zeros((length, length), np.float32)
    mid = (length - 1) / 2
    for i in np.linspace(-mid, mid, 2 * length):
        kernel[int(round(mid + i * d[1])), int(round(mid + i * d[0]))] = 1.0
    return cv2.filter2D(image, -1, kernel / kernel.sum(), borderType=cv2.BORDER_REFLECT)


def _bump(n: int, start: int, length: int) -> np.ndarray:
    """0 outside [start, start + length), a raised-cosine 0 -> 1 -> 0 inside (flat top in the middle)."""
    t = (np.arange(n) - start) / max(length - 1, 1)
    ramp = np.clip(np.minimum(t, 1 - t) * 3.0, 0, 1)
    return np.where((t >= 0) & (t <= 1), 0.5 - 0.5 * np.cos(np.pi * ramp), 0.0)


class SyntheticSequence(Sequence):
    """A :class:`Sequence` rendered from a :class:`SyntheticConfig`; ``seq.config`` keeps the knobs,
    and ``seq.states`` the per-frame target state (center, scale, angles) for teaching plots."""

    def __init__(self, config: SyntheticConfig):
        config.validate()
        self.config = config
        rng = np.random.default_rng(config.seed)
        self._plan(rng)
        boxes = np.array([self._target_box(t) for t in range(config.n_frames)])
        super().__init__(config.name, RenderedFrames(self._render, config.n_frames), boxes,
                         attributes=config.attributes(), fps=config.fps,
                         meta={"layout": "synthetic", "config": dataclasses.asdict(config)})

    # ------------------------------------------------------------------ planning (all randomness)
    def _plan(self, rng: np.random.Generator) -> None:
        c = self.config
        n, (W, H) = c.n_frames, c.frame_size
        lr = c.low_resolution
        self.front = target_patch(c.target, "front")
        self.back = target_patch(c.target, "back")
        ph, pw = self.front.shape[:2]
        base = c.target_size * (1.0 - 0.65 * lr) / max(ph, pw)  # LR: small enough for < 400 px
        self.base_scale = base

        # scale, rotations, deformation phase
        self.scale = base * np.exp(np.log(2.4) * c.scale_variation * np.sin(2 * np.pi * np.arange(n) / max(n * 0.8, 30)
                                                                                    * rng.choice([-1, 1])))
        turn = rng.choice([-1, 1])
        self.angle = turn * c.in_plane_rotation * (2 * np.pi * np.arange(n) / n + 0.3 * _smooth_noise(rng, n))
        self.opr = c.out_of_plane_rotation * np.pi * np.sin(2 * np.pi * np.arange(n) / max(n * 0.7, 30))
        self.deform_phase = rng.uniform(0, 2 * np.pi) + np.arange(n) * 0.25

        # target trajectory: a damped random walk kept inside the frame, with fast-motion bursts
        # extent along x and y (a rotating target may turn its long side either way)
        extent = np.stack([pw * self.scale, ph * self.scale], axis=1)
        if c.in_plane_rotation > 0:
            extent[:] = np.maximum(ph, pw) * self.scale[:, None]
        size_now = extent.max(axis=1)
        margin_x = np.clip(extent[:, 0] / 2 + 4, 0, W / 2 - 1)
        margin_y = np.clip(extent[:, 1] / 2 + 4, 0, H / 2 - 1)
        pos = np.zeros((n, 2))
        pos[0] = [rng.uniform(0.35, 0.65) * W, rng.uniform(0.35, 0.65) * H]
        vel = rng.normal(0, 1, 2)
        vel *= c.speed / (np.linalg.norm(vel) + 1e-9)
        bursts = np.zeros(n, bool)
        if c.fast_motion > 0:
            n_bursts = 1 + int(round(3 * c.fast_motion))
            for start in rng.choice(np.arange(5, max(n - 6, 6)), size=min(n_bursts, max(n - 11, 1)), replace=False):
                bursts[start:start + 2 + int(3 * c.fast_motion)] = True
        burst_dir = None
        for t in range(1, n):
            if bursts[t]:
                if burst_dir is None:  # head for the far side of the frame
                    goal = np.array([W, H]) - pos[t - 1] + rng.normal(0, 10, 2)
                    burst_dir = (goal - pos[t - 1]) / (np.linalg.norm(goal - pos[t - 1]) + 1e-9)
                step = burst_dir * (22 + 18 * c.fast_motion)
            else:
                burst_dir = None
                vel = 0.92 * vel + rng.normal(0, 0.35 * c.speed, 2)
                speed = np.linalg.norm(vel)
                if speed > 2 * c.speed:
                    vel *= 2 * c.speed / speed
                step = vel
            p = pos[t - 1] + step
            for k, (lo, hi) in enumerate(((margin_x[t], W - margin_x[t]), (margin_y[t], H - margin_y[t]))):
                if p[k] < lo or p[k] > hi:  # reflect at the margins
                    p[k] = np.clip(2 * (lo if p[k] < lo else hi) - p[k], lo, hi)
                    vel[k] = -vel[k]
                    if burst_dir is not None:
                        burst_dir[k] = -burst_dir[k]
            pos[t] = p
        self.bursts = bursts

        # out of view: push the center across the nearest border for a while (all the way out with absence)
        if (c.out_of_view > 0 or c.absence > 0) and n >= 12:
            start = int(rng.integers(n // 4, max(n // 2, n // 4 + 1)))
            length = max(10, n // 3) if c.absence == 0 else max(12, int(n * (1 / 3 + c.absence / 6)))
            k = int(rng.integers(0, 2))
            limit = (W, H)[k]
            # the fraction of the target's extent outside the frame at the bump's top; beyond 1 it is gone
            out_fraction = 0.3 + 0.5 * c.out_of_view if c.absence == 0 else 1.2 + 0.6 * c.absence
            bump = _bump(n, start, length)
            near_low = pos[start, k] < limit / 2
            for t in np.nonzero(bump)[0]:
                half = extent[t, k] / 2
                goal = -half + 2 * half * (1 - out_fraction) if near_low else limit + half - 2 * half * (1 - out_fraction)
                pos[t, k] = (1 - bump[t]) * pos[t, k] + bump[t] * goal
        self.center = pos
        self.velocity = np.vstack([np.zeros((1, 2)), np.diff(pos, axis=0)])

        # camera pan over a background canvas twice the frame size
        cam = np.stack([_smooth_noise(rng, n), _smooth_noise(rng, n)], axis=1)
        self.camera = (cam * 0.5 + 0.5) * np.array([W, H]) * min(1.0, c.camera_speed * n / (2 * W))
        self.canvas = self._make_canvas(rng)

        # illumination: a gain curve and a light/shadow spot that sweeps over the target
        iv = c.illumination
        self.gain = 1.0 + 0.55 * iv * _smooth_noise(rng, n, period=(20, 60))
        self.spot_sign = rng.choice([-1.0, 1.0])
        self.spot_path = pos + np.stack([60 * np.sin(np.arange(n) / 9.0), 40 * np.cos(np.arange(n) / 13.0)], 1)

        # occluders: each event is a patch that crosses the target's path
        self.occluders = []
        if c.occlusion > 0 and n >= 10:
            n_events = 1 + int(round(2 * c.occlusion))
            starts = np.linspace(n * 0.15, n * 0.8, n_events).astype(int) + rng.integers(-3, 4, n_events)
            for start in np.clip(starts, 1, n - 5):
                length = int(max(6, min(n // 4, 10 + 20 * c.occlusion)))
                src = skimage_picture(str(rng.choice(OCCLUDER_SOURCES)))
                side = float(np.max(size_now[start]) * (0.6 + 0.7 * c.occlusion))
                y0 = int(rng.integers(0, src.shape[0] - 64))
                x0 = int(rng.integers(0, src.shape[1] - 64))
                piece = np.ascontiguousarray(src[y0:y0 + 64, x0:x0 + 64].copy())
                piece[..., 3] = 1.0
                piece = cv2.resize(piece, (max(4, int(side)), max(4, int(side * rng.uniform(0.7, 1.3)))))
                direction = rng.choice([-1, 1])
                self.occluders.append((int(start), length, piece, direction))

        # distractors: copies of the target that orbit it at 1.3 to 2.5 target sizes
        self.distractor_offsets = []
        for _ in range(int(c.distractors)):
            radius = rng.uniform(1.3, 2.5)
            phase = rng.uniform(0, 2 * np.pi)
            rate = rng.uniform(0.01, 0.04) * rng.choice([-1, 1])
            self.distractor_offsets.append((radius, phase, rate))

    def _make_canvas(self, rng) -> np.ndarray:
        c = self.config
        W, H = c.frame_size
        bg = skimage_picture(c.background)[..., :3]
        canvas = cv2.resize(np.ascontiguousarray(bg), (2 * W, 2 * H), interpolation=cv2.INTER_AREA)
        if c.background_clutter > 0:  # pieces of the target's own picture, scattered everywhere
            src = skimage_picture(TARGETS[c.target][0])
            n_pieces = int(20 + 120 * c.background_clutter)
            size = int(self.base_scale * max(self.front.shape[:2]))
            for _ in range(n_pieces):
                s = max(6, int(size * rng.uniform(0.4, 1.1)))
                y0 = int(rng.integers(0, src.shape[0] - s))
                x0 = int(rng.integers(0, src.shape[1] - s))
                y = int(rng.integers(0, 2 * H - s))
                x = int(rng.integers(0, 2 * W - s))
                piece = cv2.resize(np.ascontiguousarray(src[y0:y0 + s * 2, x0:x0 + s * 2, :3]), (s, s))
                a = soft_ellipse(s, s)[..., None] * (0.5 + 0.5 * c.background_clutter)
                canvas[y:y + s, x:x + s] = a * piece + (1 - a) * canvas[y:y + s, x:x + s]
        return canvas.astype(np.float32)

    # ------------------------------------------------------------------ geometry
    def _target_layer(self, t: int, center=None):
        """Warp the target (RGBA) for frame t; returns (rgba frame-sized layer)."""
        c = self.config
        W, H = c.frame_size
        patch = self.front if np.cos(self.opr[t]) >= 0 else self.back
        if c.deformation > 0:
            ph, pw = patch.shape[:2]
            yy, xx = np.mgrid[0:ph, 0:pw].astype(np.float32)
            amp = 0.08 * c.deformation * max(ph, pw)
            phase = self.deform_phase[t]
            map_x = (xx + amp * np.sin(2 * np.pi * yy / ph + phase)).astype(np.float32)
            map_y = (yy + amp * np.sin(2 * np.pi * xx / pw + 1.3 * phase)).astype(np.float32)
            patch = cv2.remap(patch, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        ph, pw = patch.shape[:2]
        s = self.scale[t]
        sx = s * max(abs(np.cos(self.opr[t])), 0.35)
        sy = s
        if c.deformation > 0:
            breathe = 1 + 0.25 * c.deformation * np.sin(self.deform_phase[t] * 0.7)
            sx, sy = sx * breathe, sy / breathe
        a = self.angle[t]
        cx, cy = self.center[t] if center is None else center
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        lin = rot @ np.diag([sx, sy])
        offset = np.array([cx, cy]) - lin @ np.array([pw / 2, ph / 2])
        M = np.hstack([lin, offset[:, None]]).astype(np.float32)
        return cv2.warpAffine(patch, M, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    def _target_box(self, t: int) -> np.ndarray:
        alpha = self._target_layer(t)[..., 3]
        ys, xs = np.nonzero(alpha > 0.5)
        if len(xs) == 0:  # entirely out of view (the absence knob): no box, the target is absent
            return np.full(4, np.nan)
        return np.array([xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1], dtype=np.float64)

    def _distractor_centers(self, t: int) -> list:
        size = max(self.front.shape[:2]) * self.scale[t]
        return [self.center[t] + radius * size * np.array([np.cos(phase + rate * t * 2 * np.pi),
                                                           np.sin(phase + rate * t * 2 * np.pi)])
                for radius, phase, rate in self.distractor_offsets]

    def distractor_boxes(self, t: int) -> np.ndarray:
        """k x 4 boxes (x, y, w, h) of the same-looking distractors in frame ``t``: the target's box moved to
        each distractor's center (they are copies of the target). Empty (0 x 4) without distractors."""
        box = self.ground_truth[t]
        shifts = [c - self.center[t] for c in self._distractor_centers(t)]
        return np.array([box + np.array([dx, dy, 0, 0]) for dx, dy in shifts]).reshape(-1, 4)

    def _occluder_layers(self, t: int):
        """The frame-sized RGBA layers of the occluders in front of the target in frame ``t``."""
        W, H = self.config.frame_size
        for start, length, piece, direction in self.occluders:
            if start <= t < start + length:
                u = (t - start) / max(length - 1, 1)
                ph, pw = piece.shape[:2]
                cx = self.center[start][0] + direction * (u - 0.5) * 3.0 * pw
                cy = self.center[start][1] + (u - 0.5) * 0.4 * ph
                Mo = np.float32([[1, 0, cx - pw / 2], [0, 1, cy - ph / 2]])
                yield cv2.warpAffine(piece, Mo, (W, H), borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    def target_mask(self, t: int) -> np.ndarray:
        """H x W float32 in [0, 1]: how much of each pixel of frame ``t`` shows the target (its alpha, less
        what occluders cover). The per-pixel objectness SO-DLT's network learns to predict."""
        mask = self._target_layer(t)[..., 3].copy()
        for layer in self._occluder_layers(t):
            mask *= 1 - layer[..., 3]
        return mask

    def visible_fraction(self, t: int) -> float:
        """The share of the target's own pixels (its alpha) in frame ``t`` that no occluder covers: 1 when
        nothing is in front of it, 0 when it is fully hidden or out of the frame."""
        alpha = self._target_layer(t)[..., 3]
        total = float(alpha.sum())
        return float(self.target_mask(t).sum()) / total if total > 0 else 0.0

    # ------------------------------------------------------------------ rendering
    def _render(self, t: int) -> np.ndarray:
        c = self.config
        W, H = c.frame_size
        cam = self.camera[t]
        M = np.float32([[1, 0, -cam[0]], [0, 1, -cam[1]]])
        frame = cv2.warpAffine(self.canvas, M, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        if c.motion_blur > 0:  # the camera's own motion blurs the background a little
            frame = _motion_blur(frame, self.camera[t] - self.camera[max(t - 1, 0)], c.motion_blur)

        def composite(layer, blur_velocity=None):
            if blur_velocity is not None and c.motion_blur > 0:  # blur premultiplied colour with alpha
                premultiplied = np.concatenate([layer[..., :3] * layer[..., 3:4], layer[..., 3:4]], axis=-1)
                blurred = _motion_blur(premultiplied, blur_velocity, c.motion_blur)
                frame[:] = blurred[..., :3] + (1 - blurred[..., 3:4]) * frame
                return
            alpha = layer[..., 3:4]
            frame[:] = alpha * layer[..., :3] + (1 - alpha) * frame

        for center in self._distractor_centers(t):  # behind the target
            composite(self._target_layer(t, center=center))
        composite(self._target_layer(t), blur_velocity=self.velocity[t])
        for layer in self._occluder_layers(t):  # in front of the target
            composite(layer)

        if c.illumination > 0:
            yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
            sx, sy = self.spot_path[t]
            spot = np.exp(-((xx - sx) ** 2 + (yy - sy) ** 2) / (2 * (0.25 * W) ** 2))
            light = self.gain[t] * (1 + self.spot_sign * 0.6 * c.illumination * spot)
            frame *= light[..., None]
        if c.low_resolution > 0:
            f = 1.0 + 2.0 * c.low_resolution
            small = cv2.resize(frame, (max(8, int(W / f)), max(8, int(H / f))), interpolation=cv2.INTER_AREA)
            frame = cv2.resize(small, (W, H), interpolation=cv2.INTER_LINEAR)
        out = frame * 255.0
        if c.noise > 0:
            out += np.random.default_rng((c.seed, t)).normal(0, c.noise, out.shape).astype(np.float32)
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def synthetic_sequence(name: str = "synthetic", **knobs) -> SyntheticSequence:
    """Build one synthetic sequence; keyword arguments are the fields of :class:`SyntheticConfig`."""
    try:
        config = SyntheticConfig(name=name, **knobs)
    except TypeError as exc:
        fields = ", ".join(f.name for f in dataclasses.fields(SyntheticConfig))
        raise DataError(f"{exc}; the knobs are: {fields}") from None
    return SyntheticSequence(config)


# The default benchmark: every attribute appears in at least two sequences.
BENCHMARK = (
    dict(name="CatLight", target="cat", background="camera", illumination=1.0, seed=101),
    dict(name="RocketZoom", target="rocket", background="hubble_deep_field", scale_variation=1.0, target_size=70, seed=102),
    dict(name="CupHide", target="cup", background="brick", occlusion=0.9, seed=103),
    dict(name="LogoWarp", target="logo", background="grass", deformation=1.0, in_plane_rotation=0.3, seed=104),
    dict(name="FaceBlur", target="face", background="immunohistochemistry", motion_blur=1.0, speed=4.0, seed=105),
    dict(name="CoinDash", target="coin", background="gravel", fast_motion=0.8, motion_blur=0.5, seed=106),
    dict(name="WheelSpin", target="wheel", background="moon", in_plane_rotation=1.0, scale_variation=0.4, seed=107),
    dict(name="CatTurn", target="cat", background="retina", out_of_plane_rotation=1.0, seed=108),
    dict(name="ShuttleExit", target="shuttle", background="rocket", out_of_view=0.9, seed=109),
    dict(name="CatClutter", target="cat", background="chelsea", background_clutter=1.0, deformation=0.4, seed=110),
    dict(name="CoinTiny", target="coin", background="coffee", low_resolution=1.0, fast_motion=0.4, seed=111),
    dict(name="FaceTwins", target="face", background="camera", distractors=2, occlusion=0.4, seed=112),
    dict(name="CupStorm", target="cup", background="astronaut", illumination=0.6, scale_variation=0.6, target_size=56,
         out_of_plane_rotation=0.5, background_clutter=0.5, seed=113),
    dict(name="LogoCrowd", target="logo", background="hubble_deep_field", distractors=3, out_of_view=0.6,
         low_resolution=0.5, seed=114),
)


# Long-term scenarios: the target leaves the view entirely and comes back. What is left in the frame
# meanwhile decides how hard "absent" is to say: a plain background, the camera moving, same-looking
# distractors, clutter made of the target's own image.
LONG_TERM = (
    dict(name="ShuttleGone", target="shuttle", background="rocket", absence=1.0, seed=201),
    dict(name="CatAway", target="cat", background="camera", absence=0.7, camera_speed=2.0, illumination=0.3, seed=202),
    dict(name="LogoDecoys", target="logo", background="grass", absence=0.8, distractors=2, seed=203),
    dict(name="CoinClutter", target="coin", background="gravel", absence=0.6, background_clutter=0.7, speed=3.0,
         seed=204),
)


def long_term_benchmark(n_frames: int | None = None, variant: int = 0) -> Dataset:
    """Four synthetic sequences in which the target leaves the view entirely for a while and comes back (absent
    ground truth: NaN rows, as VOT-LT and LaSOT mark it): the data of the presence measures
    (:mod:`deeptrack_lite.evaluation.longterm`). ``variant`` > 0 draws the same scenarios with seeds +1000 x
    variant; ``calibrate-presence`` chooses the trackers' presence thresholds on variant 1, so variant 0 stays
    held out for measuring them. ``n_frames`` defaults to 100, 40 in fast mode."""
    n_frames = n_frames or (40 if fast_mode() else 100)
    if int(variant) != variant or variant < 0:
        raise DataError(f"variant must be a whole number >= 0, got {variant}")
    specs = [{**s, "name": s["name"] + (f"-v{variant}" if variant else ""), "seed": s["seed"] + 1000 * int(variant)}
             for s in LONG_TERM]
    return Dataset("synthetic-longterm" + (f"-v{variant}" if variant else ""),
                   [synthetic_sequence(n_frames=n_frames, **spec) for spec in specs])


def benchmark_frames() -> int:
    """Frames per benchmark sequence: 150, or 40 in fast mode."""
    return 40 if fast_mode() else 150


def synthetic_benchmark(n_frames: int | None = None, names=None, variant: int = 0) -> Dataset:
    """The course's default benchmark: 14 named synthetic sequences covering every OTB attribute.

    ``n_frames`` defaults to :func:`benchmark_frames` (short in fast mode); ``names`` picks a subset.
    ``variant`` > 0 draws the same 14 scenarios with other seeds (other paths, crops and events), named
    ``CatLight-v1`` and so on: training data for MDNet that leaves the benchmark itself unseen.
    ``dataset.attribute_table()`` lists the sequences per attribute.
    """
    n_frames = n_frames or benchmark_frames()
    specs = BENCHMARK if names is None else [s for s in BENCHMARK if s["name"] in set(names)]
    if names is not None and len(specs) != len(set(names)):
        known = ", ".join(s["name"] for s in BENCHMARK)
        raise DataError(f"unknown benchmark sequence in {list(names)}; the benchmark has {known}")
    if int(variant) != variant or variant < 0:
        raise DataError(f"variant must be a whole number >= 0, got {variant}")
    if variant:
        specs = [{**s, "name": f"{s['name']}-v{variant}", "seed": s["seed"] + 1000 * int(variant)} for s in specs]
    return Dataset("synthetic" + (f"-v{variant}" if variant else ""),
                   [synthetic_sequence(n_frames=n_frames, **spec) for spec in specs])
