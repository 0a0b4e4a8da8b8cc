"""Schedules out: a :class:`cltk.schedules.Schedule` handed to the training code that will run it.

- :func:`to_torch`: a ``torch.optim.lr_scheduler.LambdaLR`` whose learning rate at update ``s`` is
  ``schedule(s)`` itself (not a rounded multiplier times the base LR);
- :func:`to_optax`: an optax schedule (a jit-traceable ``count -> lr``), when optax is installed;
- :func:`to_array` / :func:`write_schedule`: the per-step LR as an array, or a CSV / NPY file for any
  other framework (written atomically).

The step convention is the one of the laws and of the log readers (cltk.curves): step ``s`` is
the state after ``s`` updates, and ``schedule(s)`` is the LR of update ``s`` (counted from 1;
``schedule(0)`` belongs to no update, 0 in a warmup from 0). PyTorch's and optax's counters start at
0, so their update ``k`` uses ``schedule(k + 1)``: a run logged with its optimizer-step count then
reads back (cltk.analytics.log_formats) with exactly the schedule's LR history. Past the end of a
finite schedule its own function decides (the shipped schedules hold their last LR), so a loop of
``schedule.steps`` updates, or one more ``scheduler.step()``, does not fail.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from cltk.files import atomic_write, atomic_write_text
from cltk.schedules import Schedule, ScheduleError, parse

__all__ = ["to_array", "to_optax", "to_torch", "write_schedule"]


def _schedule(schedule: Schedule | str) -> Schedule:
    return parse(schedule) if isinstance(schedule, str) else schedule


def to_array(schedule: Schedule | str, steps=None) -> np.ndarray:
    """The LR at ``steps`` as a float64 array: ``steps`` an int ``n`` (steps ``0..n-1``, exactly
    :meth:`Schedule.render`), a sequence of step numbers, or None (the schedule's length)."""
    schedule = _schedule(schedule)
    if steps is None or np.ndim(steps) == 0:
        return schedule.render(None if steps is None else int(steps))
    at = np.asarray(steps)
    if at.size and (np.any(at < 0) or np.any(at != np.round(at))):
        raise ScheduleError("to_array: steps must be whole numbers >= 0")
    return np.asarray(schedule(at.astype(np.float64)), dtype=np.float64).reshape(at.shape)


def write_schedule(schedule: Schedule | str, path, steps: int | None = None) -> Path:
    """Write the per-step LR of steps ``0..steps-1`` (default: the schedule's length) to ``path``:
    ``.csv`` with columns ``step,lr`` (17 significant digits, so the values read back exactly) or
    ``.npy`` (a float64 array indexed by step). Atomic: a crash never leaves a half-written file."""
    path = Path(path)
    lrs = to_array(schedule, steps)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return atomic_write(path, lambda f: np.save(f, lrs, allow_pickle=False))
    if suffix == ".csv":
        rows = "".join(f"{i},{v:.17g}\n" for i, v in enumerate(lrs.tolist()))
        return atomic_write_text(path, "step,lr\n" + rows)
    raise ScheduleError(f"{path}: write a schedule as .csv or .npy, not '{path.suffix or 'no suffix'}'")


def to_torch(schedule: Schedule | str, optimizer, last_epoch: int = -1):
    """A ``torch.optim.lr_scheduler.LambdaLR`` on ``optimizer`` that sets the learning rate of update
    ``s`` (counted from 1) to ``schedule(s)``: PyTorch's epoch counter ``k`` (from 0) gets
    ``schedule(k + 1)`` (call ``scheduler.step()`` after each ``optimizer.step()``, as PyTorch
    asks). The lambda is the multiplier ``schedule(k + 1) / base_lr`` of the first parameter group;
    the LR itself is set to ``schedule(s)`` directly, so it is exact (no ``base * (x / base)``
    rounding) and a base LR of 0 works. A group whose base LR differs from the first group's keeps
    its ratio to it (layer-wise LR multipliers survive). The state dict holds the schedule's spec
    and pickles (``torch.save``) like any scheduler's."""
    schedule = _schedule(schedule)
    # the initial LR of each group, as LambdaLR records it before its first step
    bases = [float(g.get("initial_lr", g["lr"])) for g in optimizer.param_groups]
    ref = bases[0]

    def multiplier(k: int) -> float:
        return float(schedule(k + 1)) / ref if ref > 0 else 0.0

    return _schedule_lr_class()(optimizer, schedule, multiplier, [b / ref if ref > 0 else 1.0 for b in bases],
                                last_epoch)


@functools.cache
def _schedule_lr_class():
    """The LambdaLR subclass of :func:`to_torch`, built on first use (importing cltk loads no torch)."""
    from torch.optim.lr_scheduler import LambdaLR

    class ScheduleLR(LambdaLR):
        """LambdaLR whose learning rates are the schedule's values (see :func:`to_torch`)."""

        def __init__(self, optimizer, schedule: Schedule, multiplier, ratios: list[float], last_epoch: int):
            # get_lr needs these before LambdaLR's constructor takes its first step
            self._schedule, self._ratios, self.schedule_spec = schedule, ratios, schedule.spec
            super().__init__(optimizer, multiplier, last_epoch=last_epoch)

        def get_lr(self):
            lr = float(self._schedule(self.last_epoch + 1))  # PyTorch counts updates from 0
            return [lr if r == 1.0 else lr * r for r in self._ratios]

        def state_dict(self):
            state = super().state_dict()
            state.pop("_schedule", None)  # its function is a closure: the spec is kept instead
            return state

    return ScheduleLR


def to_optax(schedule: Schedule | str, steps: int | None = None):
    """An optax schedule (``count -> lr``, traceable under ``jax.jit``) reproducing ``schedule`` at
    every update: optax's ``count`` (from 0) gets ``schedule(count + 1)``, looked up in a table of
    steps ``0..steps-1`` (default: the schedule's length) and held at its last value after the end.
    Values are float32 unless JAX runs in 64-bit mode. Needs optax (and jax) installed; cltk does not
    depend on them."""
    try:
        import jax.numpy as jnp
        import optax  # noqa: F401  (imported to fail here, with the message below, when it is absent)
    except ImportError as e:
        raise ImportError(f"to_optax needs optax and jax ({e}); install them with 'pip install optax', "
                          "or write the schedule to a file with write_schedule()") from None
    table = jnp.asarray(to_array(schedule, steps))
    last = table.shape[0] - 1

    def lr_at(count):
        return table[jnp.clip(jnp.asarray(count, dtype=jnp.int32) + 1, 0, last)]

    return lr_at
