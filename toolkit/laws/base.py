"""Shared machinery of the loss-curve laws: a scikit-learn-style estimator with a robust joint fit.

Every law here is *separable*: for fixed nonlinear parameters ``nl`` (exponents, decay rates) the
predicted loss is linear in a few coefficients ``lin`` (L0, A, B or C):
``yhat = F(nl) @ lin``. A law only supplies ``F`` and its derivative; this module fits it.

Fit (both steps automatic, no per-data-set grid):
1. *Screening by variable projection* (Golub & Pereyra 1973): quasi-random (Sobol) candidates of
   ``nl`` drawn from boxes scaled by the data (peak LR, run length); for each, the non-negative
   linear coefficients are solved exactly (``scipy.optimize.nnls`` on relative residuals).
2. *Refinement* of the best distinct candidates with ``scipy.optimize.least_squares`` (trust-region
   reflective) on the residuals ``log y - log yhat`` with a Huber loss of scale delta = 1e-3, the
   objective of Luo et al. (2025, Sec. 4.1), using the analytic Jacobian.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence

import numpy as np
from scipy.optimize import OptimizeResult, least_squares, nnls
from scipy.stats import qmc

from cltk.curves import Curve, block_means
from cltk.laws.anchors import anchor_index
from cltk.laws.errors import LawError
from cltk.laws.intervals import BootstrapIntervals
from cltk.laws.params import LawParams
from cltk.laws.targets import prediction_target
from cltk.schedules import Schedule

FORMAT_VERSION = 1
#: points predicted per block of work (bounds the memory of the per-point x per-bin arrays)
_PREDICT_CHUNK = 8192
# the residual given to the optimiser where a trial point's prediction is not finite
_BAD_RESIDUAL = 1e3




class LossLaw(LawParams, BootstrapIntervals):
    """Base estimator. Subclasses define ``name``, ``lin_names``, ``nl_names``, ``_prepare``,
    ``_features`` and ``_nl_box``."""

    name: str = ""
    lin_names: tuple[str, ...] = ()
    nl_names: tuple[str, ...] = ()
    #: transform of each nonlinear parameter to an unconstrained one: "log" (> 0) or "log1m" (in (0, 1))
    nl_transforms: tuple[str, ...] = ()
    min_curves = 1
    #: fitting procedures the law offers: "converged" is this module's fit (see MultiPowerLaw for "paper")
    procedures: tuple[str, ...] = ("converged",)

    def __init__(self, huber_delta: float = 1e-3, n_candidates: int = 64, n_refine: int = 3, seed: int = 0,
                 curve_weighting: str = "equal", procedure: str = "converged", max_points: int = 500,
                 **fixed: float):
        if curve_weighting not in ("equal", "points"):
            raise LawError(f"curve_weighting must be 'equal' or 'points', got '{curve_weighting}'")
        if procedure not in self.procedures:
            raise LawError(f"the {self.name} law offers {', '.join(self.procedures)}: procedure must be one of "
                           f"them, got '{procedure}'")
        if not isinstance(max_points, int) or max_points < 10:
            raise LawError(f"max_points must be an integer >= 10, got {max_points!r}")
        self.curve_weighting, self.procedure, self.max_points = curve_weighting, procedure, max_points
        self.huber_delta = huber_delta
        self.n_candidates = n_candidates
        self.n_refine = n_refine
        self.seed = seed
        self.fixed = {k: float(v) for k, v in fixed.items()}
        unknown = set(self.fixed) - set(self.nl_names)
        if unknown:
            raise LawError(f"{self.name}: cannot fix unknown parameter(s) {sorted(unknown)} "
                           f"(nonlinear parameters: {', '.join(self.nl_names)})")

    # --- law-specific hooks -------------------------------------------------------------------
    def _prepare(self, curve: Curve, steps: np.ndarray):
        """Parameter-independent precomputation for predicting ``curve`` at ``steps``."""
        raise NotImplementedError

    def _features(self, nl: np.ndarray, prep, jac: bool):
        """``F`` (n, n_lin) and, if ``jac``, ``dF`` (n, n_lin, n_nl) for nonlinear params ``nl``."""
        raise NotImplementedError

    def _nl_box(self, curves: Sequence[Curve]) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds (in natural units) of the screening box, scaled by the data."""
        raise NotImplementedError

    def _nl_bounds(self, curves: Sequence[Curve]) -> tuple[np.ndarray, np.ndarray]:
        """Hard bounds (natural units) of the nonlinear parameters during refinement."""
        # default: the domain of each transform, (0, inf) for "log" and (0, 1) for "log1m"
        return (np.zeros(len(self.nl_names)),
                np.array([1.0 if t == "log1m" else np.inf for t in self.nl_transforms]))

    # --- public API -----------------------------------------------------------------------------
    @property
    def param_names(self) -> tuple[str, ...]:
        return self.lin_names + self.nl_names

    def fit(self, curves: Sequence[Curve], progress: Callable[[str], None] | None = None) -> LossLaw:
        """Fit the law jointly on ``curves`` (a list of :class:`cltk.curves.Curve`); returns self."""
        given = list(curves)
        curves = self._validate(given)
        # screening visits extreme corners where powers overflow; such candidates are discarded
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            self._fit(curves, progress)
        self.fit_curves_ = given  # a reference, for bootstrap() without curves (not saved in the JSON)
        return self

    def _problem(self, curves: list[Curve]):
        """The joint least-squares problem: targets, stacked features, free parameters, bounds."""
        y = np.concatenate([c.loss for c in curves])
        preps = [self._prepare(c, c.steps) for c in curves]
        free = [i for i, n in enumerate(self.nl_names) if n not in self.fixed]
        fixed_vec = np.array([self.fixed.get(n, np.nan) for n in self.nl_names])

        def full_nl(nl_free):
            nl = fixed_vec.copy()
            nl[free] = nl_free
            return nl

        def feats(nl, jac):
            out = [self._features(nl, p, jac) for p in preps]
            if not jac:
                return np.concatenate(out)
            return np.concatenate([o[0] for o in out]), np.concatenate([o[1] for o in out])

        blo, bhi = self._nl_bounds(curves)
        with np.errstate(divide="ignore"):
            z1, z2 = self._to_unconstrained(blo[free], free), self._to_unconstrained(bhi[free], free)
        bounds = (np.minimum(z1, z2), np.maximum(z1, z2))  # "log1m" reverses the order
        return y, feats, full_nl, free, bounds

    def _set_params(self, x, full_nl, free) -> dict:
        n_lin = len(self.lin_names)
        lin = np.exp(x[:n_lin])
        nl = full_nl(self._from_unconstrained(x[n_lin:], free))
        return {**dict(zip(self.lin_names, lin.tolist())), **dict(zip(self.nl_names, nl.tolist()))}

    def _point_weights(self, curves: list[Curve]) -> np.ndarray:
        """Per-point weights: with "equal", every curve weighs the same whatever its logging
        interval (a run logged every 10 steps would otherwise outweigh one logged every 1000);
        with "points", every logged point does."""
        if self.curve_weighting == "points":
            return np.ones(sum(len(c.steps) for c in curves))
        mean_n = np.mean([len(c.steps) for c in curves])
        return np.concatenate([np.full(len(c.steps), mean_n / len(c.steps)) for c in curves])

    def _fit(self, curves: list[Curve], progress) -> LossLaw:
        t0 = time.perf_counter()
        y, feats, full_nl, free, bounds = self._problem(curves)
        best = self._search(curves, y, feats, full_nl, free, bounds, progress)
        self.params_ = self._set_params(best.x, full_nl, free)
        self.boot_params_, self.cv_quantiles_ = [], []  # a new fit invalidates earlier intervals
        self.fit_info_ = {"seconds": time.perf_counter() - t0, "cost": float(best.cost), "nfev": int(best.nfev),
                          "n_points": len(y), "curves": [c.name for c in curves], "procedure": self.procedure,
                          "status": best.message, "converged": bool(getattr(best, "status", 1) > 0),
                          "fixed": dict(self.fixed),
                          "block_means": {c.name: c.meta["block_means"] for c in curves if "block_means" in c.meta},
                          "at_bounds": self._at_bounds(best.x, free, bounds)}
        return self

    def _search(self, curves, y, feats, full_nl, free, bounds, progress):
        """The "converged" procedure: screening, then refinement of the best starts; returns the best
        refinement (a scipy OptimizeResult with x in the coordinates of :meth:`_refine`)."""
        w = self._point_weights(curves)

        # 1. screening: variable projection over a Sobol design in the data-scaled box
        lo, hi = self._nl_box(curves)
        dim = len(free)
        if dim:
            # uniform in the unconstrained coordinates: log-uniform for scales and rates
            u = qmc.Sobol(dim, seed=self.seed).random(self.n_candidates)
            zlo, zhi = self._to_unconstrained(lo[free], free), self._to_unconstrained(hi[free], free)
            cand = [self._from_unconstrained(zlo + ui * (zhi - zlo), free) for ui in u]
        else:
            cand = np.zeros((1, 0))
        scored = []
        for nl_free in cand:
            F = feats(full_nl(nl_free), False)
            if not np.all(np.isfinite(F)):
                continue
            lin, _ = nnls(F * (np.sqrt(w) / y)[:, None], np.sqrt(w))
            yhat = F @ lin
            if np.all(yhat > 0):
                scored.append((float(huber(np.sqrt(w) * (np.log(y) - np.log(yhat)), self.huber_delta)[0].sum()),
                               nl_free, lin))
        if not scored:
            raise LawError(f"{self.name}: no starting point gave a positive predicted loss; "
                           "check that the curves are loss values of the given LR histories")
        scored.sort(key=lambda s: s[0])
        if progress:
            progress(f"screened {len(cand)} starting points")

        # 2. refinement: robust least squares on log residuals from the best starts
        best = None
        for k, (_, nl_free, lin) in enumerate(scored[: self.n_refine]):
            res = self._refine(y, feats, full_nl, free, nl_free, lin, bounds, np.sqrt(w))
            if best is None or res.cost < best.cost:
                best = res
            if progress:
                progress(f"refined start {k + 1}/{min(self.n_refine, len(scored))}")
        if not np.isfinite(best.cost):
            raise LawError(f"{self.name}: every refinement failed ({best.message}); the curves may not be loss "
                           "values of the given LR histories")
        return best

    def predict(self, target: Curve | Schedule | str | np.ndarray, steps=None) -> np.ndarray:
        """Predicted loss of ``target`` at ``steps``: a :class:`cltk.curves.Curve` (at its logged
        steps by default), a :class:`cltk.schedules.Schedule`, a schedule spec string or a 1-D array
        of per-step LRs (``lrs[i]`` is the LR of step ``i``, as in ``Curve.lrs``; by default
        :data:`cltk.laws.targets.DEFAULT_POINTS` steps spread over its length). Steps may come in
        any order; a step past the end of the target, or before any LR area, is a LawError
        (:func:`cltk.laws.targets.prediction_target`)."""
        self._check_fitted()
        return self._predict_target([self.params_], *prediction_target(target, steps, "predict"))[0]

    def _predict_target(self, param_sets: list[dict], curve: Curve, steps: np.ndarray) -> np.ndarray:
        """Predictions (n_sets, n_steps), prepared in chunks of steps so that a per-step log of
        10^5 points never holds a points x bins array at once. Beyond :data:`cltk.laws.anchors.EXACT_POINTS` points
        the law is evaluated exactly at anchor steps (evenly spread, plus every step for a while
        after each sudden LR change, where the loss bends fastest) and interpolated linearly between
        them: the law is smooth on the scale of the anchors' spacing, and 10^6 points cost what
        ~10^5 do (the interpolation error is measured by benchmarks/bench_long_logs.py)."""
        steps = np.asarray(steps, dtype=np.int64)
        if np.any(np.diff(steps) <= 0):  # the preparations and the anchors' interpolation want increasing steps
            uniq, order = np.unique(steps, return_inverse=True)
            return self._predict_target(param_sets, curve, uniq)[:, order]
        anchors = anchor_index(curve.lrs, steps)
        at = steps[anchors]
        parts = [self._predict_sets(param_sets, self._prepare(curve, at[i: i + _PREDICT_CHUNK]))
                 for i in range(0, len(at), _PREDICT_CHUNK)]
        pred = np.concatenate(parts, axis=1)
        if len(anchors) == len(steps):
            return pred
        return np.stack([np.interp(steps, at, row) for row in pred])

    def _predict_sets(self, param_sets: list[dict], prep) -> np.ndarray:
        """Predictions (n_sets, n_points) of several parameter sets on one precomputed target."""
        out = []
        for p in param_sets:
            nl = np.array([p[k] for k in self.nl_names])
            lin = np.array([p[k] for k in self.lin_names])
            out.append(self._features(nl, prep, False) @ lin)
        return np.array(out)

    def to_json(self) -> str:
        self._check_fitted()
        return json.dumps({"law": self.name, "format_version": FORMAT_VERSION, "config": self._config(),
                           "params": self.params_,
                           "bootstrap": getattr(self, "boot_params_", []),
                           "cv_quantiles": getattr(self, "cv_quantiles_", []),
                           "fit_info": getattr(self, "fit_info_", {})}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> LossLaw:
        """A fitted law from the JSON of :meth:`to_json`, every field checked (:mod:`cltk.laws.law_file`)."""
        from cltk.laws.law_file import law_from_json

        return law_from_json(cls, text)

    # --- helpers ----------------------------------------------------------------------------------
    def _validate(self, curves) -> list[Curve]:
        curves = list(curves)
        if len(curves) < self.min_curves:
            raise LawError(f"{self.name}: needs at least {self.min_curves} curve(s) to fit, got {len(curves)}")
        for c in curves:
            if not isinstance(c, Curve):
                raise LawError(f"{self.name}: fit() takes Curve objects, got {type(c).__name__}")
            if not np.all(np.isfinite(c.loss)) or np.any(c.loss <= 0):
                raise LawError(f"{self.name}: curve '{c.name}' has non-finite or non-positive loss values")
            if np.any(c.lrs < 0) or not np.all(np.isfinite(c.lrs)):
                raise LawError(f"{self.name}: curve '{c.name}' has negative or non-finite learning rates")
            if c.steps[0] < 1 or np.cumsum(c.lrs)[c.steps[0]] <= 0:
                raise LawError(f"{self.name}: curve '{c.name}' has a logged point before any LR area "
                               f"(step {int(c.steps[0])}); drop points logged before training starts")
        n_params = len(self.lin_names) + len(self.nl_names) - len(self.fixed)
        if sum(len(c.steps) for c in curves) <= n_params:
            where = ", ".join(f"{c.meta.get('source', c.name)} ({len(c.steps)})" for c in curves)
            raise LawError(f"{where}: too few logged points to fit the {self.name} law's {n_params} parameters "
                           f"(needs more than {n_params} in all; log more often or add curves)")
        # long logs (per-step, 10^4-10^6 points) are fitted on block means: the cost of a fit grows
        # with the points, the information about the law's few parameters does not
        return [block_means(c, self.max_points)[0] for c in curves]

    def _at_bounds(self, x, free, bounds) -> list[str]:
        """The nonlinear parameters the fit left on (within 1e-6 of) a hard bound, as
        ``"name:lower"`` / ``"name:upper"`` in natural units ("log1m" parameters reverse the order)."""
        z = np.asarray(x)[len(self.lin_names):]
        out = []
        for j, i in enumerate(free):
            for side, b in (("lower", bounds[0][j]), ("upper", bounds[1][j])):
                if np.isfinite(b) and abs(z[j] - b) <= 1e-6 * (1 + abs(b)):
                    if self.nl_transforms[i] == "log1m":
                        side = "upper" if side == "lower" else "lower"
                    out.append(f"{self.nl_names[i]}:{side}")
        return out

    def _config(self) -> dict:
        """Constructor arguments that change what the law computes (saved in its JSON)."""
        return {**self.fixed, "curve_weighting": self.curve_weighting, "procedure": self.procedure,
                "max_points": self.max_points}

    def _check_fitted(self):
        if not hasattr(self, "params_"):
            raise LawError(f"{self.name}: call fit() or load a fitted law before predict()")


    def _to_unconstrained(self, nl_free, free):
        return np.array([np.log(v) if self.nl_transforms[i] == "log" else
                         np.log1p(-v) if self.nl_transforms[i] == "log1m" else v
                         for v, i in zip(nl_free, free)])

    def _from_unconstrained(self, z, free):
        return np.array([np.exp(v) if self.nl_transforms[i] == "log" else
                         -np.expm1(v) if self.nl_transforms[i] == "log1m" else v
                         for v, i in zip(z, free)])

    def _dnatural(self, z, free):
        """d(natural)/d(unconstrained) for each free nonlinear parameter."""
        return np.array([np.exp(v) if self.nl_transforms[i] == "log" else
                         -np.exp(v) if self.nl_transforms[i] == "log1m" else 1.0
                         for v, i in zip(z, free)])

    def _refine(self, y, feats, full_nl, free, nl_free, lin, bounds, sqrt_w=None, refit: bool = False):
        n_lin = len(self.lin_names)
        logy = np.log(y)
        # linear coefficients are optimised in log space (all are positive); keep them off zero
        lin = np.maximum(lin, 1e-8 * max(lin.max(), 1e-12))
        x0 = np.concatenate([np.log(lin), self._to_unconstrained(nl_free, free)])
        lo = np.concatenate([np.full(n_lin, -np.inf), bounds[0]])
        hi = np.concatenate([np.full(n_lin, np.inf), bounds[1]])
        margin = 1e-9 * (1 + np.abs(np.where(np.isfinite(lo), lo, 0)) + np.abs(np.where(np.isfinite(hi), hi, 0)))
        x0 = np.clip(x0, lo + margin, hi - margin)

        def unpack(x):
            return np.exp(x[:n_lin]), full_nl(self._from_unconstrained(x[n_lin:], free))

        sw = np.ones_like(y) if sqrt_w is None else sqrt_w

        # where powers overflow (extreme corners of a bootstrap replicate), residuals are capped and
        # Jacobian entries zeroed, so the trust region steps back instead of scipy raising on a NaN
        def fun(x):
            lin_, nl = unpack(x)
            yhat = feats(nl, False) @ lin_
            r = sw * (logy - np.log(np.maximum(yhat, 1e-12)))
            return np.nan_to_num(r, nan=_BAD_RESIDUAL, posinf=_BAD_RESIDUAL, neginf=-_BAD_RESIDUAL)

        def jac(x):
            lin_, nl = unpack(x)
            F, dF = feats(nl, True)
            yhat = np.maximum(F @ lin_, 1e-12)
            J_lin = F * lin_[None, :]
            J_nl = np.einsum("njk,j->nk", dF[:, :, free], lin_) * self._dnatural(x[n_lin:], free)[None, :]
            J = -np.concatenate([J_lin, J_nl], axis=1) * (sw / yhat)[:, None]
            return np.where(np.isfinite(J), J, 0.0)

        try:
            # a bootstrap refit starts at the optimum and only needs to move by the resampling
            # noise, far above 1e-8: looser tolerances there cut the refits' cost several-fold
            tol, nfev = (1e-8, 150) if refit else (1e-10, 400)
            return least_squares(fun, x0, jac=jac, loss="huber", f_scale=self.huber_delta, bounds=(lo, hi),
                                 method="trf", x_scale="jac", xtol=tol, ftol=tol / 100, gtol=tol, max_nfev=nfev)
        except (ValueError, np.linalg.LinAlgError) as e:  # a singular or non-finite step: this start failed
            return OptimizeResult(x=x0, cost=np.inf, nfev=0, status=-1, success=False, message=f"failed: {e}")


def huber(r: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """Huber loss of each residual (quadratic within ``delta``, linear beyond; the robust objective
    of Luo et al. 2025, Sec. 4.1) and its derivative."""
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta)), np.clip(r, -delta, delta)
