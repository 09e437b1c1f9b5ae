"""Off-line training: DLT's SDAE pretraining (and, in a later chapter, MDNet's multi-domain training)."""
from .sdae import PretrainResult, SDAEPretrainConfig, pretrain_sdae, read_loss_log, stack_reconstruction_mse

__all__ = ["PretrainResult", "SDAEPretrainConfig", "pretrain_sdae", "read_loss_log", "stack_reconstruction_mse"]
