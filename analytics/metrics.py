"""Goodness of a predicted loss curve, as the multi-power-law evaluation reports it (Luo et al. 2025,
Sec. 4.2): R^2, MAE, RMSE, PredE = mean(|y - yhat| / y), WorstE = max(|y - yhat| / y), computed on
the logged points of each curve and then averaged over curves."""
from __future__ import annotations

import numpy as np

METRIC_KEYS = ("r2", "mae", "rmse", "pred_e", "worst_e")


def curve_metrics(y, yhat) -> dict[str, float]:
    """R^2 (coefficient of determination), MAE, RMSE, PredE and WorstE of one curve."""
    y, yhat = np.asarray(y, dtype=float), np.asarray(yhat, dtype=float)
    err = y - yhat
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    rel = np.abs(err) / y
    return {"r2": 1.0 - float(np.sum(err ** 2)) / ss_tot if ss_tot > 0 else float("nan"),
            "mae": float(np.mean(np.abs(err))), "rmse": float(np.sqrt(np.mean(err ** 2))),
            "pred_e": float(rel.mean()), "worst_e": float(rel.max())}


def mean_metrics(per_curve: list[dict]) -> dict[str, float] | None:
    """Average each metric over curves (None when there are no curves)."""
    if not per_curve:
        return None
    return {k: float(np.mean([m[k] for m in per_curve])) for k in METRIC_KEYS}
