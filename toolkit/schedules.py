"""Learning-rate schedules as pure functions ``step -> lr`` (optax style) that also render arrays.

Every schedule is a :class:`Schedule`: call it with an int or an integer array of steps, or ask for
``render(n)`` (the per-step LR of steps ``0..n-1``). Small schedules compose with :func:`join`
(concatenation: each piece sees its own local step) and every schedule has a one-line text spec
(``to_spec`` / :func:`parse`) for the command line, e.g.::

    wsd:peak=3e-4,steps=24000,warmup=2160,decay=0.2,shape=sqrt,final=3e-5
    constant:lr=3e-4,steps=8000 + constant:lr=9e-5,steps=8000

Shapes follow the papers that use them: WSD with linear / 1-sqrt / exponential / cosine cooldowns
(Hägele et al. 2024, "Scaling Laws and Compute-Optimal Training Beyond Fixed Training Durations",
Sec. 3), cosine to a floor (Loshchilov & Hutter 2017, Eq. 5), the two-stage schedules of Luo et al.
(2025, multi-power law, Sec. 3), inverse-sqrt "infinite" schedules (Vaswani et al. 2017, Eq. 3) and
re-warming for continual pre-training (Ibrahim et al. 2024, Sec. 5).
"""
from __future__ import annotations

import dataclasses
import inspect
import itertools
import re
from collections.abc import Callable

import numpy as np

from cltk.errors import InputError

__all__ = [
    "COOLDOWN_SHAPES",
    "Schedule",
    "ScheduleError",
    "constant",
    "cosine",
    "cyclic_cosine",
    "inverse_sqrt",
    "join",
    "linear",
    "parse",
    "piecewise",
    "rewarm",
    "two_stage",
    "warmup",
    "wsd",
    "wsd_s",
]

COOLDOWN_SHAPES = ("linear", "sqrt", "exp", "cosine")


class ScheduleError(InputError):
    """A schedule's parameters or text spec are invalid (the message says which and why)."""


@dataclasses.dataclass(frozen=True)
class Schedule:
    """A pure function ``step -> lr``. ``steps`` is the schedule's length (None: unbounded)."""

    fn: Callable[[np.ndarray], np.ndarray]
    steps: int | None
    spec: str

    def __call__(self, step):
        out = self.fn(np.asarray(step, dtype=np.float64))
        return float(out) if np.ndim(out) == 0 else out

    def render(self, n: int | None = None) -> np.ndarray:
        """The LR of steps ``0..n-1`` as a float64 array (``n`` defaults to the schedule's length)."""
        n = self.steps if n is None else int(n)
        if n is None:
            raise ScheduleError(f"schedule '{self.spec}' is unbounded: give the number of steps to render")
        return np.asarray(self.fn(np.arange(n, dtype=np.float64)), dtype=np.float64)

    def to_spec(self) -> str:
        return self.spec

    # the exports live in cltk.schedule_export (which imports this module): imported on first use
    def to_array(self, steps=None) -> np.ndarray:
        """The LR at ``steps`` as a float64 array: an int ``n`` (steps ``0..n-1``), a sequence of
        steps, or None (the schedule's length); :func:`cltk.schedule_export.to_array`."""
        from cltk.schedule_export import to_array

        return to_array(self, steps)

    def to_torch(self, optimizer, last_epoch: int = -1):
        """A ``torch.optim.lr_scheduler.LambdaLR`` on ``optimizer`` whose LR at step ``s`` is
        ``self(s)`` (the lambda is that LR relative to the optimizer's base LR; other parameter
        groups keep their ratio to the first); :func:`cltk.schedule_export.to_torch`."""
        from cltk.schedule_export import to_torch

        return to_torch(self, optimizer, last_epoch)

    def to_optax(self, steps: int | None = None):
        """An optax schedule ``count -> lr`` (an ImportError saying what to install when optax or
        jax is missing); :func:`cltk.schedule_export.to_optax`."""
        from cltk.schedule_export import to_optax

        return to_optax(self, steps)

    def to_file(self, path, steps: int | None = None):
        """Write the LR of steps ``0..steps-1`` to a ``.csv`` (``step,lr``) or ``.npy`` file,
        atomically; :func:`cltk.schedule_export.write_schedule`. Returns the path."""
        from cltk.schedule_export import write_schedule

        return write_schedule(self, path, steps)

    def __repr__(self) -> str:
        return f"Schedule({self.spec!r})"


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise ScheduleError(msg)


def _fmt(**kw) -> str:
    return ",".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in kw.items())


def _with_warmup(body: Callable[[np.ndarray], np.ndarray], peak: float, n_warm: int):
    """Linear warmup from 0 to ``peak`` over ``n_warm`` steps, then ``body(step - n_warm)``."""
    if n_warm <= 0:
        return body
    return lambda s: np.where(s < n_warm, peak * s / n_warm, body(np.maximum(s - n_warm, 0.0)))


def constant(lr: float, steps: int | None = None) -> Schedule:
    """Constant LR."""
    _check(lr >= 0, f"constant: lr must be >= 0, got {lr}")
    return Schedule(lambda s: np.full_like(s, lr, dtype=np.float64), steps,
                    "constant:" + _fmt(lr=float(lr)) + (f",steps={steps}" if steps else ""))


def linear(start: float, end: float, steps: int) -> Schedule:
    """Linear interpolation from ``start`` (step 0) to ``end`` (step ``steps``), then held."""
    _check(steps > 0, f"linear: steps must be > 0, got {steps}")
    _check(start >= 0 and end >= 0, "linear: start and end must be >= 0")
    return Schedule(lambda s: start + (end - start) * np.clip(s / steps, 0.0, 1.0), steps,
                    "linear:" + _fmt(start=float(start), end=float(end), steps=steps))


def warmup(peak: float, steps: int) -> Schedule:
    """Linear warmup from 0 to ``peak`` over ``steps`` steps."""
    return dataclasses.replace(linear(0.0, peak, steps), spec="warmup:" + _fmt(peak=float(peak), steps=steps))


def _cooldown(shape: str, peak: float, final: float) -> Callable[[np.ndarray], np.ndarray]:
    """Cooldown profile as a function of progress ``u`` in [0, 1] (Hägele et al. 2024, Sec. 3)."""
    if shape == "linear":
        return lambda u: peak - (peak - final) * u
    if shape == "sqrt":  # the "1 - sqrt" cooldown
        return lambda u: peak - (peak - final) * np.sqrt(u)
    if shape == "cosine":
        return lambda u: final + 0.5 * (peak - final) * (1.0 + np.cos(np.pi * u))
    if shape == "exp":  # geometric decay, as the wsd_* curves of Luo et al.
        _check(final > 0, "wsd: shape=exp needs final > 0 (a geometric decay cannot reach 0)")
        return lambda u: peak * (final / peak) ** u
    raise ScheduleError(f"unknown cooldown shape '{shape}' (choose from {', '.join(COOLDOWN_SHAPES)})")


def cosine(peak: float, steps: int, final: float = 0.0, warmup: int = 0) -> Schedule:
    """Linear warmup then cosine decay from ``peak`` to ``final`` at step ``steps``."""
    _check(steps > warmup >= 0, f"cosine: need steps > warmup >= 0, got steps={steps}, warmup={warmup}")
    _check(peak > 0 and 0 <= final <= peak, f"cosine: need 0 <= final <= peak and peak > 0 (peak={peak})")
    shape = _cooldown("cosine", peak, final)
    body = lambda s: shape(np.clip(s / (steps - warmup), 0.0, 1.0))
    return Schedule(_with_warmup(body, peak, warmup), steps,
                    "cosine:" + _fmt(peak=float(peak), steps=steps, final=float(final), warmup=warmup))


def wsd(peak: float, steps: int, decay: float = 0.2, shape: str = "linear", final: float = 0.0,
        warmup: int = 0) -> Schedule:
    """Warmup-stable-decay: ``peak`` until the last ``decay`` fraction (or step count if > 1) of
    training, then a cooldown of the given shape to ``final`` (Hägele et al. 2024; Hu et al. 2024,
    MiniCPM Sec. 4)."""
    n_decay = round(decay * steps) if decay <= 1 else int(decay)
    _check(0 <= n_decay <= steps - warmup and warmup >= 0,
           f"wsd: decay={decay} does not fit in steps={steps} after warmup={warmup}")
    _check(peak > 0 and 0 <= final <= peak, f"wsd: need 0 <= final <= peak and peak > 0 (peak={peak})")
    cool = _cooldown(shape, peak, final)
    start = steps - n_decay
    if n_decay == 0:
        fn = lambda s: np.full_like(s, peak, dtype=np.float64)
    else:
        fn = lambda s: np.where(s < start, peak, cool(np.clip((s - start) / n_decay, 0.0, 1.0)))
    full = lambda s: np.where(s < warmup, peak * s / max(warmup, 1), fn(s))
    return Schedule(full, steps, "wsd:" + _fmt(peak=float(peak), steps=steps, decay=float(decay), shape=shape,
                                               final=float(final), warmup=warmup))


def two_stage(peak: float, low: float, switch: int, steps: int, warmup: int = 0) -> Schedule:
    """``peak`` until step ``switch``, then ``low`` (the "wsdcon" runs of Luo et al. 2025)."""
    _check(warmup <= switch <= steps, f"two_stage: need warmup <= switch <= steps (switch={switch})")
    _check(peak > 0 and low >= 0, "two_stage: need peak > 0 and low >= 0")
    body = lambda s: np.where(s < switch - warmup, peak, low)
    return Schedule(_with_warmup(body, peak, warmup), steps,
                    "twostage:" + _fmt(peak=float(peak), low=float(low), switch=switch, steps=steps,
                                       warmup=warmup))


def inverse_sqrt(peak: float, warmup: int, timescale: int | None = None, steps: int | None = None) -> Schedule:
    """Budget-free "infinite" schedule: warmup then ``peak * sqrt(tau / (tau + s))``."""
    _check(peak > 0 and warmup >= 0, "invsqrt: need peak > 0 and warmup >= 0")
    tau = float(timescale or max(warmup, 1))
    body = lambda s: peak * np.sqrt(tau / (tau + s))
    return Schedule(_with_warmup(body, peak, warmup), steps,
                    "invsqrt:" + _fmt(peak=float(peak), warmup=warmup, timescale=int(tau))
                    + (f",steps={steps}" if steps else ""))


def rewarm(start: float, peak: float, warmup: int, steps: int, final: float = 0.0,
           shape: str = "cosine") -> Schedule:
    """Continual pre-training phase: re-warm linearly from ``start`` to ``peak`` over ``warmup``
    steps, then decay (cosine or a WSD cooldown shape) to ``final`` at ``steps`` (Ibrahim et al. 2024)."""
    _check(steps > warmup >= 0, f"rewarm: need steps > warmup >= 0 (steps={steps}, warmup={warmup})")
    cool = _cooldown(shape, peak, final)
    fn = lambda s: np.where(s < warmup, start + (peak - start) * s / max(warmup, 1),
                            cool(np.clip((s - warmup) / (steps - warmup), 0.0, 1.0)))
    return Schedule(fn, steps, "rewarm:" + _fmt(start=float(start), peak=float(peak), warmup=warmup,
                                                steps=steps, final=float(final), shape=shape))


def piecewise(at: list[int], lr: list[float]) -> Schedule:
    """Piecewise-linear schedule through the points ``(at[i], lr[i])``, held after the last one
    (the form of the free schedules found by :mod:`cltk.selection`)."""
    at_a, lr_a = np.asarray(at, dtype=np.float64), np.asarray(lr, dtype=np.float64)
    _check(len(at_a) == len(lr_a) >= 1, "piecewise: 'at' and 'lr' need the same number (>= 1) of values")
    _check(bool(np.all(np.diff(at_a) > 0)) and at_a[0] >= 0, "piecewise: 'at' steps must increase from >= 0")
    _check(bool(np.all(lr_a >= 0)), "piecewise: learning rates must be >= 0")
    spec = "piecewise:at=" + "/".join(str(int(a)) for a in at_a) + ",lr=" + "/".join(f"{v:.6g}" for v in lr_a)
    return Schedule(lambda s: np.interp(s, at_a, lr_a), int(at_a[-1]) + 1, spec)


def cyclic_cosine(peak: float, steps: int, cycles: int = 4, final: float = 0.0, warmup: int = 0) -> Schedule:
    """Cosine with warm restarts (Loshchilov & Hutter 2017, "SGDR", Eq. 5): ``cycles`` equal cosine
    cycles from ``peak`` to ``final`` over ``steps`` steps, the comparison schedule of Wen et al.
    (2024, Sec. 4)."""
    _check(1 <= cycles <= steps, f"cyclic: need 1 <= cycles <= steps (cycles={cycles}, steps={steps})")
    bounds = np.round(np.linspace(0, steps, cycles + 1)).astype(int)
    parts = [cosine(peak, int(b - a), final=final, warmup=warmup if i == 0 else 0)
             for i, (a, b) in enumerate(itertools.pairwise(bounds))]
    return dataclasses.replace(join(*parts), spec="cyclic:" + _fmt(peak=float(peak), steps=steps, cycles=cycles,
                                                                   final=float(final), warmup=warmup))


def join(*parts: Schedule) -> Schedule:
    """Concatenate finite schedules; each part sees its own local step (the last part runs on)."""
    _check(len(parts) > 0, "join: need at least one schedule")
    for p in parts[:-1]:
        _check(p.steps is not None, f"join: '{p.spec}' needs a length (steps=...) to be followed by another")
    bounds = np.cumsum([0] + [p.steps for p in parts[:-1]])

    def fn(s):
        out = np.empty_like(s, dtype=np.float64)
        idx = np.searchsorted(bounds, s, side="right") - 1
        for i, p in enumerate(parts):
            m = idx == i
            if np.any(m):
                out[m] = p.fn(s[m] - bounds[i])
        return out

    total = None if parts[-1].steps is None else int(bounds[-1] + parts[-1].steps)
    return Schedule(lambda s: fn(np.atleast_1d(s)).reshape(np.shape(s)), total, " + ".join(p.spec for p in parts))


def wsd_s(peak: float, budgets: list[int], decay: float = 0.1, shape: str = "linear", final: float = 0.0,
          warmup: int = 0) -> Schedule:
    """WSD-S (Wen et al. 2024): one main branch at ``peak`` decayed before each budget, resuming at
    ``peak`` from the decayed checkpoint; ``decay`` is the fraction of each segment spent decaying."""
    _check(len(budgets) > 0 and all(b > a for a, b in zip([warmup] + budgets, budgets)),
           "wsd_s: budgets must be increasing and above warmup")
    parts, prev = [], 0
    for i, b in enumerate(budgets):
        w = warmup if i == 0 else 0
        parts.append(wsd(peak, b - prev, decay=decay * (b - prev - w) / (b - prev), shape=shape, final=final,
                         warmup=w))
        prev = b
    sched = join(*parts)
    return dataclasses.replace(sched, spec="wsds:" + _fmt(peak=float(peak), budgets="/".join(map(str, budgets)),
                                                         decay=float(decay), shape=shape, final=float(final),
                                                         warmup=warmup))


_FACTORIES: dict[str, tuple[Callable[..., Schedule], dict]] = {
    "constant": (constant, {"lr": float, "steps": int}),
    "linear": (linear, {"start": float, "end": float, "steps": int}),
    "warmup": (warmup, {"peak": float, "steps": int}),
    "cosine": (cosine, {"peak": float, "steps": int, "final": float, "warmup": int}),
    "wsd": (wsd, {"peak": float, "steps": int, "decay": float, "shape": str, "final": float, "warmup": int}),
    "twostage": (two_stage, {"peak": float, "low": float, "switch": int, "steps": int, "warmup": int}),
    "invsqrt": (inverse_sqrt, {"peak": float, "warmup": int, "timescale": int, "steps": int}),
    "rewarm": (rewarm, {"start": float, "peak": float, "warmup": int, "steps": int, "final": float,
                        "shape": str}),
    "piecewise": (piecewise, {"at": list, "lr": "floats"}),
    "cyclic": (cyclic_cosine, {"peak": float, "steps": int, "cycles": int, "final": float, "warmup": int}),
    "wsds": (wsd_s, {"peak": float, "budgets": list, "decay": float, "shape": str, "final": float,
                     "warmup": int}),
}


#: largest step count or step index a spec may give: a rendered schedule holds one float per step
#: (8 GB at 10^9), and no run this toolkit models is longer
MAX_SPEC_STEPS = 10**9


def _spec_number(where: str, key: str, val: str, kind) -> float | int:
    """One number of a spec: finite, and an exact integer where one is needed (``steps=1.5`` is an
    error, not 1)."""
    try:
        x = float(val)
    except ValueError:
        x = float("nan")
    if not np.isfinite(x):
        raise ScheduleError(f"{where}: {key}='{val.strip()}' is not a finite number")
    if kind is int:
        if not x.is_integer() or not 0 <= x <= MAX_SPEC_STEPS:
            raise ScheduleError(f"{where}: {key}='{val.strip()}' is not an integer in [0, {MAX_SPEC_STEPS:.0e}]")
        return int(x)
    return x


def _parse_one(text: str) -> Schedule:
    name, _, args = text.strip().partition(":")
    name = name.strip().lower()
    where = f"schedule spec '{text.strip()}'"
    if name not in _FACTORIES:
        raise ScheduleError(f"unknown schedule '{name}' in spec '{text.strip()}' "
                            f"(choose from {', '.join(sorted(_FACTORIES))})")
    factory, types = _FACTORIES[name]
    valid = f"(arguments: {', '.join(types)})"
    kwargs = {}
    for item in filter(None, (a.strip() for a in args.split(","))):
        key, eq, val = item.partition("=")
        key = key.strip()
        if not eq or key not in types:
            raise ScheduleError(f"{where}: unknown or malformed argument '{item}' {valid}")
        if key in kwargs:
            raise ScheduleError(f"{where}: argument '{key}' given twice")
        if types[key] is list:
            kwargs[key] = [_spec_number(where, key, v, int) for v in val.split("/")]
        elif types[key] == "floats":
            kwargs[key] = [_spec_number(where, key, v, float) for v in val.split("/")]
        elif types[key] is str:
            kwargs[key] = val.strip()
        else:
            kwargs[key] = _spec_number(where, key, val, types[key])
    required = [p.name for p in inspect.signature(factory).parameters.values() if p.default is p.empty]
    missing = [k for k in required if k not in kwargs]
    if missing:
        raise ScheduleError(f"{where}: missing {', '.join(missing)} {valid}")
    try:
        return factory(**kwargs)
    except ScheduleError as e:
        raise ScheduleError(f"{where}: {e}") from None
    except (TypeError, ValueError, OverflowError) as e:  # a value no factory check foresaw
        raise ScheduleError(f"{where}: {' '.join(str(e).split())}") from None


def parse(spec: str) -> Schedule:
    """Build a schedule from its one-line text spec; ``A + B`` joins pieces (see module docstring)."""
    if not spec or not spec.strip():
        raise ScheduleError("empty schedule spec")
    # split on "+" that starts a new schedule name, so numbers such as 1e+3 stay intact
    parts = [_parse_one(p) for p in re.split(r"\+\s*(?=[A-Za-z])", spec)]
    try:
        return parts[0] if len(parts) == 1 else join(*parts)
    except ScheduleError as e:
        raise ScheduleError(f"schedule spec '{spec.strip()}': {e}") from None
