"""Incremental PCA with a forgetting factor: IVT's appearance model (Ross, Lim, Lin & Yang, IJCV 2008)."""
from __future__ import annotations

import torch


class IncrementalPCA:
    """A mean and an orthonormal basis of the recent appearance, updated a batch at a time.

    With forgetting factor f, older observations weigh f times less at every update. For a new batch B
    (m x d) with mean mu_B, the update follows Ross et al.: the new mean is (f n mu + m mu_B) / (f n + m),
    and the new basis is the top left singular vectors of [f U S, B - mu_B, sqrt(f n m / (f n + m)) (mu_B - mu)],
    which accounts for the shift of the mean without keeping any old observation.
    """

    def __init__(self, dim: int, n_components: int = 16, forgetting: float = 0.95, device="cpu"):
        self.dim, self.k, self.f = dim, n_components, forgetting
        self.device = torch.device(device)
        self.mean = torch.zeros(dim, device=self.device)
        self.basis = torch.zeros(dim, 0, device=self.device)
        self.singular = torch.zeros(0, device=self.device)
        self.n = 0.0

    def update(self, batch: torch.Tensor) -> None:
        """Add a batch of observations (m x dim)."""
        batch = batch.to(self.device, torch.float32).reshape(-1, self.dim)
        m = batch.shape[0]
        mu_b = batch.mean(dim=0)
        if self.n == 0:
            columns = (batch - mu_b).T
            self.mean = mu_b
        else:
            fn = self.f * self.n
            shift = (fn * m / (fn + m)) ** 0.5 * (mu_b - self.mean)
            columns = torch.cat([self.f * self.basis * self.singular[None, :], (batch - mu_b).T, shift[:, None]], dim=1)
            self.mean = (fn * self.mean + m * mu_b) / (fn + m)
        u, s, _ = torch.linalg.svd(columns, full_matrices=False)
        keep = min(self.k, int((s > 1e-6 * max(float(s.max()), 1e-12)).sum())) if s.numel() else 0
        self.basis, self.singular = u[:, :keep], s[:keep]
        self.n = (self.f * self.n if self.n else 0.0) + m

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction of x (n x dim) from the mean and the basis."""
        d = x.to(self.device, torch.float32) - self.mean
        return self.mean + (d @ self.basis) @ self.basis.T

    def reconstruction_error(self, x: torch.Tensor) -> torch.Tensor:
        """Mean squared residual per observation: how badly the model explains each patch."""
        x = x.to(self.device, torch.float32)
        return ((x - self.project(x)) ** 2).mean(dim=1)
