"""Deep linear networks: exact dynamics (Saxe et al. 2014), batched torch simulation, sequential
tasks (Lee et al. 2021; Evron et al. 2022) and critical learning periods (Kleinman, Achille, Soatto
2024). ``D`` always counts weight matrices; Saxe's number of layers of units is N_l = D + 1."""
from cltk.models.dln.critical import WindowSweep, pathway_ode, window_sweep
from cltk.models.dln.sim import (
    INIT_KINDS,
    Deficit,
    Trace,
    end_to_end,
    init_weights,
    train,
    train_flops,
)
from cltk.models.dln.tasks import (
    Completion,
    Task,
    Teacher,
    completion_task,
    make_teacher,
    random_orthogonal,
    rotated_pair,
)
from cltk.models.dln.theory import (
    depth_rhs,
    depth_time,
    depth_trajectory,
    derive_two_layer_solution,
    infinite_depth_time,
    lazy_limit_change,
    linear_sequential_exact,
    rich_limit_change,
    two_layer_time,
    two_layer_trajectory,
)

__all__ = [
    "INIT_KINDS",
    "Completion",
    "Deficit",
    "Task",
    "Teacher",
    "Trace",
    "WindowSweep",
    "completion_task",
    "depth_rhs",
    "depth_time",
    "depth_trajectory",
    "derive_two_layer_solution",
    "end_to_end",
    "infinite_depth_time",
    "init_weights",
    "lazy_limit_change",
    "linear_sequential_exact",
    "make_teacher",
    "pathway_ode",
    "random_orthogonal",
    "rich_limit_change",
    "rotated_pair",
    "train",
    "train_flops",
    "two_layer_time",
    "two_layer_trajectory",
    "window_sweep",
]
