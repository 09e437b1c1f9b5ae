"""Off-line training: DLT's SDAE and the DBN's pretraining, SO-DLT's objectness pretraining, MDNet's multi-domain training."""
from .sodlt import SODLTPretrainConfig, SODLTPretrainResult, evaluate_objectness, objectness_samples, pretrain_sodlt
from .dbn import DBNPretrainConfig, DBNPretrainResult, pretrain_dbn
from .mdnet import MDNetTrainConfig, MDNetTrainResult, per_domain_summary, read_training_log, train_mdnet
from .sdae import PretrainResult, SDAEPretrainConfig, pretrain_sdae, read_loss_log, stack_reconstruction_mse

__all__ = ["SODLTPretrainConfig", "SODLTPretrainResult", "evaluate_objectness", "objectness_samples", "pretrain_sodlt", "DBNPretrainConfig", "DBNPretrainResult", "pretrain_dbn", "MDNetTrainConfig", "MDNetTrainResult", "PretrainResult", "SDAEPretrainConfig", "per_domain_summary",
           "pretrain_sdae", "read_loss_log", "read_training_log", "stack_reconstruction_mse", "train_mdnet"]
