"""Off-line training: DLT's SDAE pretraining and MDNet's multi-domain training."""
from .mdnet import MDNetTrainConfig, MDNetTrainResult, per_domain_summary, read_training_log, train_mdnet
from .sdae import PretrainResult, SDAEPretrainConfig, pretrain_sdae, read_loss_log, stack_reconstruction_mse

__all__ = ["MDNetTrainConfig", "MDNetTrainResult", "PretrainResult", "SDAEPretrainConfig", "per_domain_summary",
           "pretrain_sdae", "read_loss_log", "read_training_log", "stack_reconstruction_mse", "train_mdnet"]
