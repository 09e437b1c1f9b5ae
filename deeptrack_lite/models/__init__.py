"""The models trackers learn: IVT's incremental subspace, DLT's stacked denoising autoencoder (and, in
later chapters, the CNN heads)."""
from .sdae import (SDAE, SDAEClassifier, corrupt, kl_sparsity, load_sdae, reconstruction_error, save_sdae,
                   sdae_provenance, standardize_patches)
from .subspace import IncrementalPCA

__all__ = ["IncrementalPCA", "SDAE", "SDAEClassifier", "corrupt", "kl_sparsity", "load_sdae", "reconstruction_error",
           "save_sdae", "sdae_provenance", "standardize_patches"]
