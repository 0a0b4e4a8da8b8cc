"""Phase-mixture rehearsal environments of Gandhi, Shah, Marupudi & Varma (2024, "Catastrophic
interference is mitigated in naturalistic power-law learning environments", arXiv:2401.10393 v1),
with replay from all past data or from bounded replay buffers.

The paper's environment (domain-incremental permuted MNIST, one *phase* per task): phase ``i``
trains, shuffled together, on the new task ``i`` (``n_new`` examples) and on ``n_replay = budget *
n_new`` rehearsal examples of the earlier tasks, shared out by the odds that a task recurs ``d = i -
j`` phases after it was learned (Anderson & Schooler 1991): ``d^-exponent`` (power), uniform, or
``exp(-d / tau)`` (exponential). Every kernel sees the same number of examples per phase, so they
differ only in *which* tasks are rehearsed. Baselines: ``none`` (no rehearsal, the lower bound) and
``full`` (every earlier task in full each phase, the upper bound). Where the paper is silent we
follow the authors' environment code (github.com/archana53/power-law-for-CI, ``environments.py``:
per-phase counts proportional to the kernel, replay fractions 0.1-1, examples drawn without
replacement); the power-law exponent 1.5 is the log-log slope of that code's unrestricted
power-law counts over lags 1-9.

Replay sources (``memory``): ``all`` (every past example available, the paper), ``reservoir`` (a
buffer of ``size`` examples filled by reservoir sampling over the stream of new examples; Vitter
1985, Algorithm R; Chaudhry et al. 2019, "On tiny episodic memories in continual learning") and
``class_balanced`` (greedy class-balanced buffer over (task, class) groups: a full buffer evicts a
random member of a largest group; Prabhu et al. 2020, "GDumb", Sec. 3). A buffer replays the
kernel's counts with replacement from its members of each task; tasks it no longer holds give
their share to the others.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from cltk.models.rehearsal.environment import recurrence_weights

__all__ = ["BASELINES", "MEMORIES", "PhasePlan", "class_balanced_buffer", "make_phase_plans", "replay_counts",
           "reservoir_buffer"]

BASELINES = ("none", "full")
MEMORIES = ("all", "reservoir", "class_balanced")


def replay_counts(n_tasks: int, n_replay: int, kernel: str, exponent: float = 1.5, tau: float = 1.0) -> np.ndarray:
    """``C[i, j]``: rehearsal examples of task ``j < i`` in phase ``i``, proportional to the recurrence
    odds of lag ``i - j`` (Anderson & Schooler 1991; Gandhi et al. 2024 environment), rounded by
    largest remainders so that every row ``i >= 1`` sums to exactly ``n_replay``."""
    C = np.zeros((n_tasks, n_tasks), dtype=np.int64)
    for i in range(1, n_tasks):
        w = recurrence_weights(i - np.arange(i), kernel, exponent, tau)
        share = n_replay * w / w.sum()
        base = np.floor(share).astype(np.int64)
        extra = n_replay - base.sum()
        base[np.argsort(-(share - base), kind="stable")[:extra]] += 1
        C[i, :i] = base
    return C


def reservoir_buffer(items: np.ndarray, size: int, rng: np.random.Generator, state=None):
    """Algorithm R (Vitter 1985) over the rows of ``items`` (the stream, in arrival order), continuing
    ``state = (buffer, seen)``; returns the new state. The buffer is a uniform sample of the stream."""
    buf, seen = (np.zeros((0, items.shape[1]), np.int64), 0) if state is None else state
    room = max(0, size - len(buf))
    buf = np.concatenate([buf, items[:room]])
    rest = items[room:]
    # item k of the rest is the (seen + room + k)-th of the stream: it replaces slot r when r < size
    r = rng.integers(0, seen + room + np.arange(len(rest)) + 1)
    for k in np.flatnonzero(r < size):  # few: about size * log(stream / size) in all
        buf[r[k]] = rest[k]
    return buf, seen + len(items)


def class_balanced_buffer(items: np.ndarray, groups: np.ndarray, size: int, rng: np.random.Generator, state=None):
    """Greedy class-balanced buffer (Prabhu et al. 2020, GDumb, Sec. 3) over the stream ``items`` with
    group labels ``groups`` (here: task * 10 + class): a new example enters while the buffer has room,
    or when its group is smaller than the largest one, which then loses a random member."""
    buf, gb = (np.zeros((0, items.shape[1]), np.int64), np.zeros(0, np.int64)) if state is None else state
    buf, gb = list(buf), list(gb)
    count: dict = {}
    for g in gb:
        count[g] = count.get(g, 0) + 1
    top = max(count.values(), default=0)
    for row, g in zip(items, groups):
        if len(buf) < size:
            buf.append(row)
            gb.append(g)
            count[g] = count.get(g, 0) + 1
            top = max(top, count[g])
            continue
        if count.get(g, 0) >= top:
            continue  # its group is already among the largest: the buffer stays balanced without it
        big = max(k for k in count if count[k] == top)
        members = [i for i, x in enumerate(gb) if x == big]
        i = members[rng.integers(0, len(members))]
        count[big] -= 1
        buf[i], gb[i] = row, g
        count[g] = count.get(g, 0) + 1
        top = max(count.values())
    return np.array(buf, dtype=np.int64).reshape(-1, items.shape[1]), np.array(gb, dtype=np.int64)


@dataclasses.dataclass
class PhasePlan:
    """What every model trains on: ``task[p]`` and ``index[p]`` are ``(models, L_p)`` arrays (task and
    training-example index of each item of phase ``p``, in the order seen); models are the
    ``conditions`` (outer) times seeds (inner)."""

    conditions: tuple
    seeds: int
    task: list
    index: list
    buffer_tasks: dict  # condition -> (seeds, phases, K): examples of each task in the buffer per phase


def _draw(pool_idx, n, rng, replace):
    if n == 0 or len(pool_idx) == 0:
        return np.zeros(0, np.int64)
    return rng.choice(pool_idx, n, replace=replace or n > len(pool_idx))


def make_phase_plans(labels: np.ndarray, n_tasks: int, conditions, budget: float = 0.5, seeds: int = 20,
                     exponent: float = 1.5, tau: float = 1.0, memory_size: int = 200, n_new: int | None = None,
                     seed: int = 0) -> PhasePlan:
    """Phase sequences for every condition ``(kernel, memory)`` (kernel in power/uniform/exponential
    with memory in :data:`MEMORIES`, or a baseline in :data:`BASELINES` with memory ``all``) and seed
    (Gandhi et al. 2024 environment; see the module doc). ``labels``: class of each training example.
    Per seed, the order of the new task's examples is common to every condition (paired seeds)."""
    n_train = len(labels)
    n_new = n_train if n_new is None else int(n_new)
    n_rep = int(round(budget * n_new))
    conditions = tuple(tuple(c) for c in conditions)
    lengths = set()
    for kern, mem in conditions:
        if mem not in MEMORIES or (kern in BASELINES and mem != "all"):
            raise ValueError(f"bad condition ({kern!r}, {mem!r})")
        lengths.add(("full", 0) if kern == "full" else ("none", 0) if kern == "none" else ("replay", 0))
    if len(lengths) > 1:
        raise ValueError("conditions of one plan must train on phases of equal length (replay kernels, "
                         "'none' or 'full' apart)")
    task = [[] for _ in range(n_tasks)]
    index = [[] for _ in range(n_tasks)]
    buffer_tasks = {}
    for kern, mem in conditions:
        counts = replay_counts(n_tasks, n_rep, kern, exponent, tau) if kern not in BASELINES else None
        btasks = np.zeros((seeds, n_tasks, n_tasks), np.int64)
        for n in range(seeds):
            base = np.random.default_rng([seed, n])  # common to every condition of this seed
            order = [base.permutation(n_train)[:n_new] for _ in range(n_tasks)]
            rng = np.random.default_rng([seed, n, 1 + conditions.index((kern, mem))])
            state = None
            for p in range(n_tasks):
                parts_t, parts_i = [np.full(n_new, p)], [order[p]]
                if kern == "full":
                    for j in range(p):
                        parts_t.append(np.full(n_new, j))
                        parts_i.append(order[j])
                elif kern != "none" and p > 0:
                    held = None if mem == "all" else state[0]
                    c = counts[p, :p].astype(float)
                    if held is not None:  # tasks the buffer lost give their share to the others
                        have = np.bincount(held[:, 0], minlength=n_tasks)[:p] > 0
                        c = np.where(have, c, 0.0)
                        c = np.floor(n_rep * c / max(c.sum(), 1e-12)).astype(np.int64)
                        c[np.argmax(c)] += n_rep - c.sum() if c.sum() else 0
                    for j in range(p):
                        pool = order[j] if held is None else held[held[:, 0] == j, 1]
                        got = _draw(pool, int(c[j]), rng, replace=held is not None)
                        parts_t.append(np.full(len(got), j))
                        parts_i.append(got)
                t, i = np.concatenate(parts_t), np.concatenate(parts_i)
                shuffle = rng.permutation(len(t))
                task[p].append(t[shuffle])
                index[p].append(i[shuffle])
                if mem != "all":
                    stream = np.stack([np.full(n_new, p), order[p]], axis=1)
                    if mem == "reservoir":
                        state = reservoir_buffer(stream, memory_size, rng, state)
                    else:
                        state = class_balanced_buffer(stream, p * 10 + labels[order[p]], memory_size, rng, state)
                    btasks[n, p] = np.bincount(state[0][:, 0], minlength=n_tasks)
        buffer_tasks[(kern, mem)] = btasks
    lens = [{len(x) for x in task[p]} for p in range(n_tasks)]
    if any(len(s) > 1 for s in lens):
        # a buffer short of n_rep examples of a task draws with replacement, so this cannot happen
        raise AssertionError(f"unequal phase lengths {lens}")
    return PhasePlan(conditions, seeds, [np.stack(t) for t in task], [np.stack(i) for i in index], buffer_tasks)
