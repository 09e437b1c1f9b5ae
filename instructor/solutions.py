"""Reference solutions to the notebooks' exercises: the instructor's, kept in the repository and out of the installed
package, so that a student's ``import deeptrack_lite`` cannot reach them.

One function per exercise, with the name and signature the notebook's exercise cell uses, written in plain
numpy as a student would write it (not by calling the package's own implementation, so that a solution
shows the computation). ``deeptrack_lite.course.exercises.EXERCISES`` names each exercise's check;
:func:`check_all` runs every check on its solution (the tests require all of them to pass), and
``python3 make.py release`` records these solutions' answers to the checks' varied cases, which is what a
student's notebook is compared with.

    from instructor import solutions          # from the repository's root
    solutions.check_all()                     # every check on its reference solution, the recorded answers
    solutions.check_all(seed=7)               # ... on cases the notebooks never show (what a grader draws)
    solutions.show("taylor_significance")     # print a solution's source
"""
from __future__ import annotations

import inspect

import numpy as np

from deeptrack_lite.course.exercises import EXERCISES


# ---------------------------------------------------------------------------------- 00 welcome, 06 evaluation
def box_center(box):
    """OTB's centre of an (x, y, w, h) box whose pixels are x .. x + w - 1: the middle pixel, not x + w / 2."""
    x, y, w, h = box
    return x + (w - 1) / 2, y + (h - 1) / 2


def precision_at(center_errors, threshold):
    """Share of frames whose centre error is at most ``threshold``; a lost frame (NaN, inf) counts as a miss."""
    e = np.asarray(center_errors, dtype=float)
    return float(np.mean(np.nan_to_num(e, nan=np.inf) <= threshold))


def success_rates(ious, thresholds):
    """OTB's success curve: for each threshold, the share of frames whose IoU is strictly above it."""
    o = np.nan_to_num(np.asarray(ious, dtype=float), nan=-1.0)
    return (o[None, :] > np.asarray(thresholds)[:, None]).mean(axis=1)


def dataset_auc(per_sequence_ious):
    """Dataset success AUC: average the per-sequence curves (each sequence weighs the same), then the thresholds."""
    thresholds = np.linspace(0, 1, 21)
    return float(np.mean([success_rates(o, thresholds) for o in per_sequence_ious]))


# ------------------------------------------------------------------------------ 01 generative vs discriminative
def ssd_map(window, template):
    """Mean squared difference of ``template`` at every position where it fits inside ``window``."""
    window, template = np.asarray(window, dtype=float), np.asarray(template, dtype=float)
    h, w = template.shape
    rows, cols = window.shape[0] - h + 1, window.shape[1] - w + 1
    out = np.empty((rows, cols))
    for i in range(rows):
        for j in range(cols):
            out[i, j] = np.mean((window[i:i + h, j:j + w] - template) ** 2)
    return out


def sample_labels(ious):
    """1 for IoU >= 0.7 (object), 0 for IoU <= 0.3 (background), -1 for the ambiguous band between."""
    o = np.asarray(ious, dtype=float)
    return np.where(o >= 0.7, 1, np.where(o <= 0.3, 0, -1))


# ------------------------------------------------------------------------------------------- 02 motion models
def systematic_resample(weights, u):
    """Indices of the particles hit by the N equally spaced pointers u, u + 1/N, ..., u + (N - 1)/N."""
    w = np.asarray(weights, dtype=float)
    pointers = u + np.arange(len(w)) / len(w)
    return np.searchsorted(np.cumsum(w), pointers)  # side="left": a pointer on a boundary picks the lower particle


def bhattacharyya(p, q):
    """Bhattacharyya coefficient of two normalised histograms: sum_u sqrt(p_u q_u)."""
    return float(np.sum(np.sqrt(np.asarray(p, dtype=float) * np.asarray(q, dtype=float))))


# ------------------------------------------------------------------------------------------------------ 03 DLT
def masking_noise(x, level, rng):
    """A copy of ``x`` with a random fraction ``level`` of its values set to 0 (the input is left untouched)."""
    return x * (rng.random(x.shape) >= level)


def kl_sparsity(h, rho):
    """Mean over hidden units of KL(rho || rho_hat_j), rho_hat_j the unit's mean activation over the batch."""
    rho_hat = np.asarray(h, dtype=float).mean(axis=0)
    kl = rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
    return float(kl.mean())


def should_update(confidences, threshold):
    """DLT updates its model when even the *best* particle's confidence is below the threshold."""
    return bool(np.max(confidences) < threshold)


def cd1_step(W, b, c, v0, h0, lr):
    """One CD-1 update of a Bernoulli RBM from the batch ``v0`` and the hidden sample ``h0`` drawn from p(h|v0)."""
    sigmoid = lambda x: 1 / (1 + np.exp(-x))
    p0 = sigmoid(v0 @ W.T + c)          # positive phase: the data's hidden probabilities
    v1 = sigmoid(h0 @ W + b)            # reconstruction from the sample
    p1 = sigmoid(v1 @ W.T + c)          # negative phase
    n = len(v0)
    return W + lr * (p0.T @ v0 - p1.T @ v1) / n, b + lr * (v0 - v1).mean(axis=0), c + lr * (p0 - p1).mean(axis=0)


def box_from_objectness(prob, sizes):
    """SO-DLT's box: the (x, y, w, h) among ``sizes`` and all positions with the largest sum of 2 P - 1."""
    gain = 2 * np.asarray(prob, dtype=float) - 1
    S_y, S_x = gain.shape
    best = None
    for w, h in sizes:
        for y in range(S_y - h + 1):
            for x in range(S_x - w + 1):
                score = gain[y:y + h, x:x + w].sum()
                if best is None or score > best[0]:
                    best = (score, (x, y, w, h))
    return best[1]


# ----------------------------------------------------------------------------------------------------- 04 FCNT
def taylor_significance(f, g, h):
    """FCNT's significance per map: sum over cells of -g f + 1/2 h f^2 (second-order change of the loss when
    the map is switched off)."""
    f, g, h = (np.asarray(a, dtype=float) for a in (f, g, h))
    return (-g * f + 0.5 * h * f ** 2).sum(axis=(1, 2))


def distractor_share(heatmap, peak_xy, target_wh):
    """Share of the heat map's positive heat outside the target-sized region centred on the peak."""
    m = np.clip(np.asarray(heatmap, dtype=float), 0, None)
    yy, xx = np.mgrid[0:m.shape[0], 0:m.shape[1]]
    inside = (np.abs(xx - peak_xy[0]) <= target_wh[0] / 2) & (np.abs(yy - peak_xy[1]) <= target_wh[1] / 2)
    total = m.sum()
    return float(m[~inside].sum() / total) if total > 0 else 0.0


# ---------------------------------------------------------------------------------------------------- 05 MDNet
def hard_negatives(scores, n):
    """Indices of the ``n`` negatives with the highest scores: the ones the classifier finds most object-like."""
    return np.argsort(np.asarray(scores))[::-1][:n]


def box_deltas(box, target):
    """R-CNN's regression targets: centre offsets in units of the box's size, then log size ratios."""
    x, y, w, h = np.asarray(box, dtype=float)
    tx, ty, tw, th = np.asarray(target, dtype=float)
    return np.array([(tx + tw / 2 - (x + w / 2)) / w, (ty + th / 2 - (y + h / 2)) / h, np.log(tw / w), np.log(th / h)])


def target_score(scores, boxes, k):
    """MDNet's target score (mean of the k best scores) and new state (mean of those candidates' boxes)."""
    top = np.argsort(np.asarray(scores))[-k:]
    return float(np.mean(np.asarray(scores)[top])), np.asarray(boxes, dtype=float)[top].mean(axis=0)


def vot_resets(overlaps, skip):
    """VOT's reset rule: the frames where the tracker starts and where it fails (overlap exactly 0)."""
    starts, failures = [], []
    frame = 0
    while frame < len(overlaps):
        starts.append(frame)
        frame += 1
        while frame < len(overlaps) and overlaps[frame] > 0:
            frame += 1
        if frame < len(overlaps):
            failures.append(frame)
            frame += skip
    return starts, failures


def expected_average_overlap(segments, n):
    """EAO at length n: failed segments padded with zeros, finished ones only if long enough; frames 1..n."""
    values = []
    for overlaps, failed in segments:
        if not failed and len(overlaps) < n + 1:
            continue
        padded = np.zeros(n + 1)
        kept = np.asarray(overlaps, dtype=float)[:n + 1]
        padded[:len(kept)] = kept
        values.append(padded[1:].mean())
    return float(np.mean(values))


def tracking_f_score(overlaps, scores, visible, threshold):
    """Long-term tracking precision, recall and F at one threshold (Lukezic et al. 2018)."""
    overlaps, called = np.asarray(overlaps, dtype=float), np.asarray(scores) >= threshold
    precision = overlaps[called].mean() if called.any() else 1.0
    recall = overlaps[called].sum() / max(int(np.sum(visible)), 1)
    f = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return float(precision), float(recall), float(f)


def correlate(exemplar, search):
    """SiamFC's cross-correlation: conv2d slides its weight over the input without flipping it."""
    import torch
    import torch.nn.functional as F

    response = F.conv2d(torch.as_tensor(search)[None], torch.as_tensor(exemplar)[None])
    return response[0, 0].numpy()


def filter_response(x, y, z, lam):
    """A multi-channel correlation filter in closed form (one training patch), applied to z."""
    X, Y, Z = np.fft.fft2(x), np.fft.fft2(y), np.fft.fft2(z)
    numerator = Y[None] * np.conj(X)                   # one per channel
    denominator = (np.abs(X) ** 2).sum(axis=0) + lam   # shared by the channels
    return np.real(np.fft.ifft2((Z * numerator).sum(axis=0) / denominator))


# -------------------------------------------------------------------------------------------- the index
def check_all(seed: int = 0) -> dict:
    """{solution name: CheckResult} for every exercise, each check run on its reference solution: against the
    answers the package records (seed 0), or, for another seed, on freshly drawn cases against the solution itself
    (the checks without varied cases take no seed)."""
    results = {}
    for name, (_, check) in EXERCISES.items():
        solution = globals()[name]
        varied = "seed" in inspect.signature(check).parameters
        results[name] = check(solution, seed=seed, reference=solution) if varied and seed else check(solution)
    return results


def show(name: str) -> None:
    """Print the source of one solution."""
    if name not in EXERCISES:
        from deeptrack_lite.errors import DeepTrackError

        raise DeepTrackError(f"no exercise called {name!r}; the exercises are: {', '.join(EXERCISES)}")
    print(inspect.getsource(globals()[name]))


__all__ = list(EXERCISES) + ["check_all", "show"]
