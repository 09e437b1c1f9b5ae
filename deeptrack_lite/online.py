"""Online learning shared by the tracking-by-detection trackers: a memory of recent samples and the
object-vs-background training loop.

- :class:`SampleMemory`: positives and negatives per frame, the last few frames kept (short-term
  memory), the first frame's optionally pinned so that updates cannot forget the one frame whose
  label is certain.
- :func:`train_binary_classifier`: class-balanced logistic loss on positives and negatives, full-batch or
  on minibatches drawn from them, for any ``forward(x) -> logits`` and optimizer; optionally with
  :func:`hard_negative_mining` (MDNet): each step scores a large pool of negatives and trains on the
  ones the classifier finds most object-like.
"""
from __future__ import annotations

from collections import deque

import torch
import torch.nn.functional as F


class SampleMemory:
    """Training samples (tensors, one row per sample) of the last ``frames`` frames.

    ``keep_first=True`` pins the samples of the first :meth:`add` outside the rolling window.
    ``neg_frames`` keeps negatives for fewer frames than positives when given (the background changes
    faster than the object)."""

    def __init__(self, frames: int = 10, neg_frames: int | None = None, keep_first: bool = False):
        self.keep_first = keep_first
        self.first: tuple | None = None
        self.pos: deque = deque(maxlen=frames)
        self.neg: deque = deque(maxlen=neg_frames or frames)
        self._joined: dict = {}  # (0 positives | 1 negatives, last) -> their concatenation, until the next add

    def add(self, pos: torch.Tensor, neg: torch.Tensor) -> None:
        self._joined = {}
        if self.keep_first and self.first is None:
            self.first = (pos, neg)
            return
        self.pos.append(pos)
        self.neg.append(neg)

    def _join(self, kind: int, frames: deque, last: int | None) -> torch.Tensor:
        # one concatenation per add: a run of failures updates from the same samples frame after frame,
        # and MDNet's 100 frames of positives are a 50 MB copy
        if (kind, last) not in self._joined:
            recent = list(frames)[-last:] if last else list(frames)
            self._joined[kind, last] = torch.cat(([self.first[kind]] if self.first else []) + recent)
        return self._joined[kind, last]

    def positives(self, last: int | None = None) -> torch.Tensor:
        """All positives held, or those of the ``last`` frames only (the pinned first frame included).
        The tensor is shared until the next :meth:`add`: do not modify it."""
        return self._join(0, self.pos, last)

    def negatives(self, last: int | None = None) -> torch.Tensor:
        return self._join(1, self.neg, last)

    def __len__(self) -> int:
        """Number of frames whose samples are held."""
        return len(self.pos) + (1 if self.first else 0)


def balanced_logistic_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy where positives and negatives weigh the same in total."""
    n_pos = labels.sum().clamp_min(1)
    n_neg = (labels.numel() - labels.sum()).clamp_min(1)
    weight = torch.where(labels > 0, n_neg / n_pos, torch.ones_like(labels))
    return F.binary_cross_entropy_with_logits(logits, labels, weight=weight)


def hard_negative_mining(score, negatives: torch.Tensor, n_hard: int) -> torch.Tensor:
    """Indices of the ``n_hard`` rows of ``negatives`` that ``score(x) -> logits`` rates most object-like:
    the background the classifier currently confuses with the target (Sung and Poggio's bootstrapping, as
    MDNet uses it). Scored without gradients."""
    with torch.no_grad():
        s = score(negatives).reshape(-1)
    return torch.topk(s, min(int(n_hard), len(s))).indices


def train_binary_classifier(forward, optimizer: torch.optim.Optimizer, pos: torch.Tensor, neg: torch.Tensor,
                            steps: int, *, batch_pos: int | None = None, batch_neg: int | None = None,
                            generator: torch.Generator | None = None, hard_negative_pool: int | None = None,
                            score=None) -> list[float]:
    """``steps`` optimizer steps of :func:`balanced_logistic_loss` on ``forward(x) -> logits`` (N or N x 1).

    Full batch when ``batch_pos``/``batch_neg`` are None; otherwise each step draws that many positives
    and negatives (with replacement when there are fewer). With ``hard_negative_pool``, each step draws
    that many negatives instead and keeps the ``batch_neg`` hardest by ``score`` (default ``forward``;
    pass one that switches dropout off). Returns the loss of every step."""
    losses = []
    for _ in range(int(steps)):
        if batch_pos is None:
            xp, xn = pos, neg
        else:
            n_neg = batch_neg or 3 * batch_pos
            xp = pos[torch.randint(len(pos), (batch_pos,), generator=generator, device=pos.device)]
            xn = neg[torch.randint(len(neg), (hard_negative_pool or n_neg,), generator=generator, device=neg.device)]
            if hard_negative_pool:
                xn = xn[hard_negative_mining(score or forward, xn, n_neg)]
        x = torch.cat([xp, xn])
        y = torch.cat([torch.ones(len(xp), device=x.device), torch.zeros(len(xn), device=x.device)])
        loss = balanced_logistic_loss(forward(x).reshape(-1), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return losses
