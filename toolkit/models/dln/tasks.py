"""Teachers and tasks for deep linear networks: a teacher is built from chosen singular values and
random singular vectors (Saxe et al. 2014, whitened-input setting:, Sigma_yx = U S V^T), and a
second teacher can be rotated away from it by a chosen angle (the teacher similarity of Lee et al.
2021, "Continual learning in the teacher-student setup: impact of task similarity")."""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

__all__ = ["Completion", "Task", "Teacher", "completion_task", "make_teacher", "random_orthogonal", "rotated_pair"]


def random_orthogonal(n: int, rng: np.random.Generator, m: int | None = None) -> np.ndarray:
    """An n x m matrix with orthonormal columns, Haar-distributed (QR of a Gaussian matrix with the
    sign fix of Mezzadri 2007, "How to generate random matrices from the classical compact groups")."""
    m = n if m is None else m
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return (q * np.sign(np.diag(r)))[:, :m]


@dataclasses.dataclass
class Teacher:
    """T = U diag(s) V^T: ``u`` (n_out x m), ``s`` (m,), ``v`` (n_in x m) (Saxe et al. 2014, SVD of
    the input-output correlation)."""

    u: np.ndarray
    s: np.ndarray
    v: np.ndarray

    @property
    def matrix(self) -> np.ndarray:
        return (self.u * self.s) @ self.v.T

    @property
    def shape(self) -> tuple[int, int]:
        return self.u.shape[0], self.v.shape[0]


def make_teacher(n_in: int, n_out: int, singular_values, seed: int = 0) -> Teacher:
    """A teacher with the given singular values and Haar-random singular vectors (Saxe et al. 2014,
    whitened-input setting). Needs len(singular_values) <= min(n_in, n_out)."""
    s = np.asarray(singular_values, float)
    if s.ndim != 1 or len(s) == 0 or len(s) > min(n_in, n_out):
        raise ValueError(f"need 1..{min(n_in, n_out)} singular values, got {len(np.atleast_1d(s))}")
    rng = np.random.default_rng(seed)
    return Teacher(random_orthogonal(n_out, rng, len(s)), s, random_orthogonal(n_in, rng, len(s)))


def rotated_pair(n_in: int, n_out: int, singular_values, similarity: float, seed: int = 0,
                 singular_values_b=None, input_rank: int | None = None):
    """Two tasks A, B whose teachers' singular vectors overlap by ``similarity`` c = cos(angle):
    u_B = c u_A + sqrt(1 - c^2) u_perp, likewise v, each column toward its own fresh orthogonal
    direction (the teacher-teacher overlap of Lee et al. 2021), so <T_A, T_B>_F = c^2 sum s_A s_B.

    ``input_rank`` r < n_in restricts each task's inputs to an r-dimensional subspace (the
    under-determined regression of Evron et al. 2022): A's subspace is random, independent of the
    teachers, and B's is A's rotated by the same angle (principal angles arccos c). Returns
    (teacher_a, teacher_b, basis_a, basis_b); bases are n_in x r, or None for whitened inputs on all
    of R^n_in."""
    s = np.asarray(singular_values, float)
    m = len(s)
    r = n_in if input_rank is None else int(input_rank)
    if similarity < 1 and (2 * m > min(n_in, n_out) or (r < n_in and 2 * r > n_in)):
        raise ValueError(f"rotating needs 2 x {m} teacher dimensions and 2 x {r} input dimensions, "
                         f"have {n_in} inputs and {n_out} outputs")
    rng = np.random.default_rng(seed)
    full_u, full_v = random_orthogonal(n_out, rng), random_orthogonal(n_in, rng)
    sin = np.sqrt(max(0.0, 1.0 - similarity**2))

    def rot(full, k):
        return similarity * full[:, :k] + sin * full[:, k: 2 * k]

    sb = s if singular_values_b is None else np.asarray(singular_values_b, float)
    ta = Teacher(full_u[:, :m], s, full_v[:, :m])
    tb = Teacher(rot(full_u, m), sb, rot(full_v, m))
    if r >= n_in:
        return ta, tb, None, None
    full_q = random_orthogonal(n_in, rng)
    return ta, tb, full_q[:, :r], rot(full_q, r)


@dataclasses.dataclass
class Task:
    """A regression task for the simulator. Loss 1/2 E|W x - T x|^2 with x whitened in the span of
    ``basis`` (n_in x r orthonormal; None = all of R^n_in), or, with ``mask``, the entrywise loss
    1/2 sum mask * (W - T)^2 of matrix completion (mask holds the per-entry weights)."""

    teacher: torch.Tensor
    basis: torch.Tensor | None = None
    mask: torch.Tensor | None = None
    noise: float = 0.0

    @classmethod
    def from_numpy(cls, teacher, basis=None, mask=None, noise=0.0, device="cpu", dtype=torch.float32):
        def conv(a):
            return None if a is None else torch.as_tensor(np.asarray(a), dtype=dtype, device=device)
        return cls(conv(teacher), conv(basis), conv(mask), float(noise))

    def loss(self, w: torch.Tensor) -> torch.Tensor:
        """Population loss of end-to-end maps ``w`` (..., n_out, n_in)."""
        d = w - self.teacher
        if self.mask is not None:
            return 0.5 * (self.mask * d * d).sum((-1, -2))
        if self.basis is not None:
            d = d @ self.basis
        return 0.5 * (d * d).sum((-1, -2))


@dataclasses.dataclass
class Completion:
    """A matrix-completion problem (numpy arrays, n x n): ``target``, its observation weights
    ``mask``, the ``test`` weights, and the deficit's target and weights."""

    target: np.ndarray
    mask: np.ndarray
    test: np.ndarray
    deficit_target: np.ndarray
    deficit_mask: np.ndarray


def _gaussian_low_rank(n: int, rank: int, rng: np.random.Generator) -> np.ndarray:
    """Kleinman et al.'s ``create_matrix``: L R^T / sqrt(r) with standard Gaussian n x r factors,
    rescaled to Frobenius norm n (entries of root mean square 1)."""
    m = rng.standard_normal((n, rank)) @ rng.standard_normal((n, rank)).T / np.sqrt(rank)
    return m * (n / np.linalg.norm(m))


def completion_task(n: int, rank: int, observed: float, deficit: str = "observations", *,
                    deficit_observed: float = 0.1, deficit_rank: int = 10, seed: int = 0) -> Completion:
    """Deep matrix completion with a deficit (Kleinman, Achille, Soatto 2024, Sec. "matrix completion";
    setup of Arora et al. 2019 as in their code): an n x n rank-``rank`` Gaussian target (entries of
    RMS 1), a fraction ``observed`` of the entries seen, uniformly without replacement. Observed
    entries weigh 1/|Omega|, so the loss 1/2 sum mask (W - M)^2 of :class:`Task` is their 1/2 mean
    over observations; the test weights are 2/n^2 on every entry, so the test loss is their
    mean_ij (W - M)_ij^2 over all entries. ``deficit``:
    ``observations``: the first ``deficit_observed`` x n^2 of the same observations (a nested subset,
    weights 1/|subset|), same target (their ``main-num-examples.py``);
    ``rank``: the same observations of an independent rank-``deficit_rank`` target (their ``main.py``,
    rank switch)."""
    rng = np.random.default_rng(seed)
    target = _gaussian_low_rank(n, rank, rng)
    order = rng.permutation(n * n)
    n_obs, n_def = round(observed * n * n), round(deficit_observed * n * n)
    if not 0 < n_obs < n * n:
        raise ValueError(f"observed fraction {observed} leaves no observed or no unobserved entry")

    def mask_of(idx):
        m = np.zeros(n * n)
        m[idx] = 1.0 / len(idx)
        return m.reshape(n, n)

    mask = mask_of(order[:n_obs])
    test = np.full((n, n), 2.0 / (n * n))
    if deficit == "observations":
        if not 0 < n_def <= n_obs:
            raise ValueError(f"deficit_observed {deficit_observed} must give 1 .. {n_obs} observations")
        return Completion(target, mask, test, target, mask_of(order[:n_def]))
    if deficit == "rank":
        if not 1 <= deficit_rank <= n:
            raise ValueError(f"deficit_rank must be 1 .. {n}, got {deficit_rank}")
        return Completion(target, mask, test, _gaussian_low_rank(n, deficit_rank, rng), mask)
    raise ValueError(f"unknown deficit '{deficit}' (choose observations or rank)")
