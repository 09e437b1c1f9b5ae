"""The models trackers learn: IVT's incremental subspace, DLT's stacked denoising autoencoder, FCNT's
selection and heat-map networks (and, in the next chapter, MDNet's)."""
from .sdae import (SDAE, SDAEClassifier, corrupt, kl_sparsity, load_sdae, reconstruction_error, save_sdae,
                   sdae_provenance, standardize_patches)
from .fcnt import (HeatmapNet, SelectionNet, conv_hessian_diagonal, fit_heatmap, gaussian_heatmap, map_significance,
                   select_maps)
from .subspace import IncrementalPCA

__all__ = ["HeatmapNet", "SelectionNet", "conv_hessian_diagonal", "fit_heatmap", "gaussian_heatmap", "map_significance",
           "select_maps", "IncrementalPCA", "SDAE", "SDAEClassifier", "corrupt", "kl_sparsity", "load_sdae", "reconstruction_error",
           "save_sdae", "sdae_provenance", "standardize_patches"]
