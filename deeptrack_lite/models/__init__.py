"""The models trackers learn: IVT's incremental subspace, DLT's stacked denoising autoencoder, the deep belief network, SO-DLT's objectness network, FCNT's
selection and heat-map networks, MDNet's multi-domain network and its bounding-box regressor."""
from .sdae import (SDAE, SDAEClassifier, corrupt, kl_sparsity, load_sdae, reconstruction_error, save_sdae,
                   sdae_provenance, standardize_patches)
from .fcnt import (HeatmapNet, SelectionNet, conv_hessian_diagonal, fit_heatmap, gaussian_heatmap, map_significance,
                   select_maps)
from .dbn import DBN, RBM, cd_gradients, cd_step, load_dbn, save_dbn
from .sodlt import (ObjectnessHead, box_coverage, box_from_map, fit_objectness, load_sodlt, map_iou, save_sodlt,
                    search_region)
from .subspace import IncrementalPCA
from .box_regression import RidgeBoxRegressor, apply_deltas, box_deltas
from .mdnet import MDNet, load_mdnet, mdnet_provenance

__all__ = ["ObjectnessHead", "box_coverage", "box_from_map", "fit_objectness", "load_sodlt", "map_iou", "save_sodlt", "search_region", "DBN", "RBM", "cd_gradients", "cd_step", "load_dbn", "save_dbn", "MDNet", "RidgeBoxRegressor", "apply_deltas", "box_deltas", "load_mdnet", "mdnet_provenance", "HeatmapNet", "SelectionNet", "conv_hessian_diagonal", "fit_heatmap", "gaussian_heatmap", "map_significance",
           "select_maps", "IncrementalPCA", "SDAE", "SDAEClassifier", "corrupt", "kl_sparsity", "load_sdae", "reconstruction_error",
           "save_sdae", "sdae_provenance", "standardize_patches"]
