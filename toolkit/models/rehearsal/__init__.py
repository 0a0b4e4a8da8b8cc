"""Power-law rehearsal environments (Anderson & Schooler 1991; Gandhi et al. 2024): the environment,
its continual-learning metrics and the linear learner (``environment``); the MLP learner on sklearn's
digits lives in :mod:`cltk.models.rehearsal.mlp` (imported on demand: it needs scikit-learn). The
phase-mixture setting of Gandhi et al. 2024 with bounded replay buffers is
:mod:`cltk.models.rehearsal.phases` (environment) and :mod:`cltk.models.rehearsal.phase_mlp` (learner);
the metrics are :mod:`cltk.continual_metrics`."""
from cltk.models.rehearsal.environment import (
    KERNELS,
    Environment,
    LinearTasks,
    continual_metrics,
    make_environment,
    make_linear_tasks,
    recurrence_weights,
    run_linear,
    task_per_step,
)

__all__ = ["KERNELS", "Environment", "LinearTasks", "continual_metrics", "make_environment",
           "make_linear_tasks", "recurrence_weights", "run_linear", "task_per_step"]
