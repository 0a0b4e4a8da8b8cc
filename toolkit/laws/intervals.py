"""Prediction intervals of the loss-curve laws (mixed into :class:`cltk.laws.base.LossLaw`):
bootstrap refits, their percentile bands widened by the leave-one-curve-out error, and the
per-replicate predictions that paired differences of schedules use."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from cltk.curves import Curve
from cltk.laws.errors import LawError
from cltk.laws.targets import prediction_target
from cltk.schedules import Schedule


class BootstrapIntervals:
    """Interval methods of a law; they rely on the fitting machinery of ``LossLaw``."""

    def predict_interval(self, target: Curve | Schedule | str | np.ndarray, steps=None, level: float = 0.9):
        """Pointwise ``level`` prediction band ``(lo, hi)`` from the bootstrap replicates made by
        :meth:`bootstrap` (percentiles of the replicate predictions); ``target`` and ``steps`` as in
        :meth:`predict`."""
        self._check_fitted()
        if not getattr(self, "boot_params_", None):
            raise LawError(f"{self.name}: no bootstrap replicates; call bootstrap() after fit()")
        if not 0 < level < 1:
            raise LawError(f"interval level must be in (0, 1), got {level}")
        curve, steps = prediction_target(target, steps, "predict_interval")
        center = self._predict_target([self.params_], curve, steps)[0]
        preds = self._predict_target(self.boot_params_, curve, steps)
        q = (1 - level) / 2
        lo, hi = np.quantile(preds, q, axis=0), np.quantile(preds, 1 - q, axis=0)
        # model-discrepancy term: the level-quantile of leave-one-curve-out relative errors, added in
        # quadrature to the parameter (bootstrap) half-widths
        cv = float(np.interp(level, np.linspace(0, 1, len(self.cv_quantiles_)), self.cv_quantiles_)) \
            if getattr(self, "cv_quantiles_", None) else 0.0
        h_lo = np.hypot(np.maximum(center - lo, 0), cv * center)
        h_hi = np.hypot(np.maximum(hi - center, 0), cv * center)
        return center - h_lo, center + h_hi

    def predict_replicates(self, target: Curve | Schedule | str | np.ndarray, steps=None) -> np.ndarray:
        """Predictions (n_replicates, n_steps) of every bootstrap replicate made by :meth:`bootstrap`:
        differences between two targets taken replicate by replicate are *paired* (the same refits
        predict both), which ranks close schedules far more sharply than two separate intervals.
        ``target`` and ``steps`` as in :meth:`predict`."""
        self._check_fitted()
        if not getattr(self, "boot_params_", None):
            raise LawError(f"{self.name}: no bootstrap replicates; call bootstrap() after fit()")
        return self._predict_target(self.boot_params_, *prediction_target(target, steps, "predict_replicates"))

    def bootstrap(self, curves: Sequence[Curve] | None = None, n: int = 32, block_frac: float = 0.1,
                  seed: int | None = None,
                  progress: Callable[[str], None] | None = None) -> BootstrapIntervals:
        """Refit on ``n`` resampled data sets, and once per left-out curve, for prediction
        intervals; returns self. ``curves`` default to the curves given to :meth:`fit` (a law read
        from a law file does not keep them: give them again); ``seed`` to the law's own.

        Resampling: a moving-block bootstrap over the points of each curve (Kuensch 1989; blocks of
        ``block_frac`` of a curve keep the autocorrelation of the residuals); every curve keeps its
        weight. (A Bayesian bootstrap over the curves themselves, Rubin 1981, was used before; with
        the two to four curves users fit on, it leaves replicates with almost no weight on the one
        curve that identifies the anneal, and on the 124M cooldown runs it made the 90% band of the
        final loss as wide as the whole spread of the finals it should separate — measured.) Each
        replicate is refined from the fitted parameters. Because extrapolating to another schedule
        errs mostly through the law's own misfit, not through parameter noise, the intervals also
        carry the leave-one-curve-out relative errors (a jackknife+ style term, Barber et al. 2021):
        each curve is predicted by the law refitted on the others."""
        self._check_fitted()
        if curves is None:
            curves = getattr(self, "fit_curves_", None)
            if curves is None:
                names = self.fit_info_.get("curves") if isinstance(getattr(self, "fit_info_", None), dict) else None
                named = (f" ({', '.join(map(str, names[:5]))}{', ...' * (len(names) > 5)})"
                         if isinstance(names, list) and names else "")
                raise LawError(f"{self.name}: bootstrap() without curves refits on the curves given to fit(), and "
                               f"a law read from a law file keeps none: call bootstrap(curves) with its fit "
                               f"curves{named}")
        curves = self._validate(curves)
        rng = np.random.default_rng(self.seed if seed is None else seed)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            y, feats, full_nl, free, bounds = self._problem(curves)
            base_w = self._point_weights(curves)
            lin0 = np.array([self.params_[k] for k in self.lin_names])
            nl0 = np.array([self.params_[k] for k in self.nl_names])[free]
            sets, failed, at_limit = [], 0, 0
            for b in range(n):
                w = np.concatenate([_block_counts(len(c.steps), block_frac, rng) for c in curves])
                res = self._refine(y, feats, full_nl, free, nl0, lin0, bounds, np.sqrt(w * base_w), refit=True)
                if progress:
                    progress(f"bootstrap refits {b + 1}/{n}")
                if not np.isfinite(res.cost):  # a replicate whose refit failed is left out and counted
                    failed += 1
                    continue
                at_limit += res.get("status", 1) == 0  # the paper procedure reports no status
                sets.append(self._set_params(res.x, full_nl, free))
            errs = []
            for i, c in enumerate(curves if len(curves) > 1 else []):
                w = np.concatenate([np.full(len(d.steps), float(j != i)) for j, d in enumerate(curves)])
                res = self._refine(y, feats, full_nl, free, nl0, lin0, bounds, np.sqrt(w * base_w), refit=True)
                if not np.isfinite(res.cost):
                    failed += 1
                    continue
                p = self._set_params(res.x, full_nl, free)
                pred = self._predict_target([p], c, c.steps)[0]
                errs.append(np.abs(c.loss - pred) / pred)
        if not sets:
            raise LawError(f"{self.name}: every bootstrap refit failed; rerun with intervals off")
        self.boot_params_ = sets
        # what the report must say about the replicates (caveats read it)
        self.fit_info_["bootstrap"] = {"replicates": n, "failed": failed, "at_evaluation_limit": int(at_limit)}
        self.cv_quantiles_ = np.quantile(np.concatenate(errs), np.linspace(0, 1, 101)).tolist() if errs else []
        return self


def paired_interval(point: float, diffs, level: float) -> tuple[float, float]:
    """The ``level`` interval of a paired difference whose fitted value is ``point``, from the same
    difference in each bootstrap replicate (``diffs``): the replicates' spread around their median,
    placed around the fitted value, so the interval always holds the point it qualifies. (Refits
    resample the points and start from the fit, but their median drifts from it when a parameter
    sits near a bound; raw percentiles then left the fitted difference outside its own interval,
    e.g. +0.0589 with [+0.0526, +0.0578] on the 25M curves.)"""
    d = np.asarray(diffs, dtype=float)
    q = (1 - level) / 2
    lo, med, hi = np.quantile(d, [q, 0.5, 1 - q])
    return float(point - max(med - lo, 0.0)), float(point + max(hi - med, 0.0))


def _block_counts(m: int, block_frac: float, rng: np.random.Generator) -> np.ndarray:
    """How often each of ``m`` points is drawn by a moving-block bootstrap (Kuensch 1989)."""
    L = max(1, min(m, round(block_frac * m)))
    starts = rng.integers(0, m - L + 1, size=-(-m // L))
    counts = np.zeros(m + 1)
    np.add.at(counts, starts, 1.0)
    np.add.at(counts, starts + L, -1.0)
    return np.cumsum(counts)[:m]
