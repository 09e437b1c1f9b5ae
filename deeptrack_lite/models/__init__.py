"""The models trackers learn: IVT's incremental subspace (and, in later chapters, the networks)."""
from .subspace import IncrementalPCA

__all__ = ["IncrementalPCA"]
