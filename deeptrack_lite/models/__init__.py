"""The models trackers learn: IVT's incremental subspace, DLT's stacked denoising autoencoder, FCNT's
selection and heat-map networks, MDNet's multi-domain network and its bounding-box regressor."""
from .sdae import (SDAE, SDAEClassifier, corrupt, kl_sparsity, load_sdae, reconstruction_error, save_sdae,
                   sdae_provenance, standardize_patches)
from .fcnt import (HeatmapNet, SelectionNet, conv_hessian_diagonal, fit_heatmap, gaussian_heatmap, map_significance,
                   select_maps)
from .subspace import IncrementalPCA
from .box_regression import RidgeBoxRegressor, apply_deltas, box_deltas
from .mdnet import MDNet, load_mdnet, mdnet_provenance

__all__ = ["MDNet", "RidgeBoxRegressor", "apply_deltas", "box_deltas", "load_mdnet", "mdnet_provenance", "HeatmapNet", "SelectionNet", "conv_hessian_diagonal", "fit_heatmap", "gaussian_heatmap", "map_significance",
           "select_maps", "IncrementalPCA", "SDAE", "SDAEClassifier", "corrupt", "kl_sparsity", "load_sdae", "reconstruction_error",
           "save_sdae", "sdae_provenance", "standardize_patches"]
