"""Smoothing of noisy loss logs for reports: a per-step log (thousands of points, each one batch's
loss) is a band of noise in a plot and its last point is one noisy batch. Reports draw and quote
the Savitzky-Golay smoothed loss instead (Savitzky & Golay 1964: a least-squares polynomial of
degree :data:`POLYORDER` over a moving window of points), which, unlike an exponential moving
average, does not lag behind a loss that is still falling: its value at the last point is the
window's fitted polynomial evaluated there, not an average of older, higher losses."""
from __future__ import annotations

import numpy as np
from scipy.signal import savgol_filter

#: logs with more points than this are smoothed in plots and get a smoothed final loss
MIN_POINTS = 2000
#: the window spans this share of a log's points (an odd count, at least :data:`MIN_WINDOW`)
WINDOW_SHARE = 0.02
MIN_WINDOW = 31
#: a quadratic follows the bend at the end of a cooldown that a straight line would cut
POLYORDER = 2

METHOD = (f"Savitzky-Golay: least-squares polynomial of degree {POLYORDER} over a moving window of "
          f"{WINDOW_SHARE:.0%} of the points (at least {MIN_WINDOW}), in point order; logs with more than "
          f"{MIN_POINTS} points")


def window(n_points: int) -> int | None:
    """The smoothing window (an odd number of points) of a log of ``n_points``, or None when the
    log has at most :data:`MIN_POINTS` points (it is drawn and quoted as logged)."""
    if n_points <= MIN_POINTS:
        return None
    w = max(MIN_WINDOW, int(round(WINDOW_SHARE * n_points)))
    return w if w % 2 else w + 1


def smooth(loss: np.ndarray) -> np.ndarray | None:
    """The smoothed loss at every logged point (Savitzky & Golay 1964; at the two ends, the
    polynomial fitted to the first or last window), or None for a log short enough to show as is.
    Points are taken in order: per-step logs are evenly spaced."""
    loss = np.asarray(loss, dtype=np.float64)
    w = window(len(loss))
    if w is None:
        return None
    return savgol_filter(loss, w, POLYORDER, mode="interp")


def smoothed_final(loss: np.ndarray) -> float | None:
    """The smoothed loss at the last logged point (None for a short log): the value at the last
    point of the degree-:data:`POLYORDER` least-squares polynomial through the last window."""
    s = smooth(loss)
    return None if s is None else float(s[-1])
