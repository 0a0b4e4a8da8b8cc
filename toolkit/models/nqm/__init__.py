"""The noisy quadratic model (NQM) of Zhang et al. (2019), "Which Algorithmic Choices Matter at Which
Batch Sizes? Insights From a Noisy Quadratic Model" (NeurIPS 2019): plain SGD under any LR schedule
(:mod:`.core`), batch size, heavy-ball momentum, preconditioning and iterate averaging (:mod:`.optim`),
and the steps-to-target vs batch size study with the critical batch size (:mod:`.batch`). Each has an
exact expected-loss recursion and a Monte Carlo check.

Defaults (:data:`DEFAULT_SPECTRUM`, shared with ``cltk simulate nqm``): ``h_i = i^-1``, gradient noise
proportional to the Hessian, ``c_i = 0.1 h_i`` per example (Zhang et al. 2019, Sec. 3.1: C = H)."""
from cltk.models.nqm.batch import (
    DEFAULT_STUDY,
    OPTIMIZERS,
    BatchStudy,
    critical_batch_size,
    optimizer_configs,
    steps_to_target,
    study_batch_sizes,
)
from cltk.models.nqm.core import (
    DEFAULT_SPECTRUM,
    as_lr_matrix,
    expected_loss,
    sgd_monte_carlo,
    spectrum,
    steady_state,
)
from cltk.models.nqm.optim import Configs, expected, monte_carlo, stable_lr, stationary

__all__ = ["DEFAULT_SPECTRUM", "DEFAULT_STUDY", "OPTIMIZERS", "BatchStudy", "Configs", "as_lr_matrix",
           "critical_batch_size", "expected", "expected_loss", "monte_carlo", "optimizer_configs",
           "sgd_monte_carlo", "spectrum", "stable_lr", "stationary", "steady_state", "steps_to_target",
           "study_batch_sizes"]
