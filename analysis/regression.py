"""Ordinary least squares with Newey-West (HAC) standard errors on a calendar, and Holm's
correction: the estimators behind ``analysis/insights.py`` (whose docstring explains the
choices: bandwidth rule, AR(1) prewhitening, the floor at the OLS variance, and the simulations
that led to them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

RHO_CAP: Final = 0.9
"""Largest AR(1) coefficient used for prewhitening and the bandwidth plug-in."""


@dataclass
class Fit:
    """OLS with HAC errors: coefficients, their variances, the residual degrees of freedom and
    the Bartlett bandwidth each variance used."""

    beta: np.ndarray
    variance: np.ndarray
    df: float
    bandwidth: np.ndarray
    n: int


def _lag1(series: np.ndarray) -> float:
    """Lag-1 autoregression coefficient of ``series`` (no demeaning), within +-``RHO_CAP``."""
    lagged = series[:-1]
    denominator = float(lagged @ lagged)
    if denominator <= 0:
        return 0.0
    return float(np.clip((series[1:] @ lagged) / denominator, -RHO_CAP, RHO_CAP))


def bandwidth(n: int, rule: str = "auto", series: np.ndarray | None = None) -> float:
    """Bartlett bandwidth S for n rows: lags j < S get weight 1 - j/S (S = lags + 1).

    ``nw94``: floor(4 (n/100)^(2/9)) lags (Newey & West 1994). ``andrews``: Andrews' (1991)
    AR(1) plug-in S = 1.1447 (alpha n)^(1/3), alpha = 4 rho^2 / (1 - rho^2)^2, rho the lag-1
    autocorrelation of ``series``. ``auto``: the larger of the two, at most n/4 lags - never
    shorter than the textbook rule, longer where the series is persistent. ``llsw``: 1.3 sqrt(n)
    (Lazarus, Lewis, Stock & Watson 2018).
    """
    textbook = math.floor(4.0 * (n / 100.0) ** (2.0 / 9.0)) + 1.0
    if rule == "nw94":
        return textbook
    if rule == "llsw":
        return 1.3 * math.sqrt(n)
    if rule not in ("andrews", "auto"):
        raise ValueError(f"unknown bandwidth rule {rule!r}; use auto, nw94, andrews or llsw")
    plug_in = 1.0
    if series is not None and len(series) > 2:
        rho = _lag1(series)
        alpha = 4.0 * rho * rho / (1.0 - rho * rho) ** 2
        plug_in = max(plug_in, 1.1447 * (alpha * n) ** (1.0 / 3.0))
    if rule == "andrews":
        return plug_in
    return min(max(textbook, plug_in), n / 4.0 + 1.0)


def long_run_variance(
    series: np.ndarray, n: int, rule: str = "auto", a: float = 0.0
) -> tuple[float, float]:
    """(Bartlett estimate of the variance of the sum of ``series``, bandwidth).

    ``series`` lies on a time grid (zeros where a row is missing). ``a`` != 0 prewhitens (Andrews
    & Monahan 1992): the kernel runs on ``s_t - a s_(t-1)`` and the result is recoloured by
    1 / (1 - a)^2.
    """
    white = series[1:] - a * series[:-1] if a != 0.0 and len(series) > 2 else series
    s = bandwidth(n, rule, white)
    total = float(white @ white)
    j = 1
    while j < s and j < len(white):
        total += 2.0 * (1.0 - j / s) * float(white[j:] @ white[:-j])
        j += 1
    return max(total, 0.0) / (1.0 - a) ** 2, s


def residual_ar1(
    resid: np.ndarray, x: np.ndarray, xtx_inv: np.ndarray, offset: np.ndarray
) -> float:
    """Bias-corrected lag-1 autocorrelation of OLS residuals at grid positions ``offset``.

    The raw r = sum e_t e_(t-1) / sum e_t^2 (pairs exactly one step apart) is biased towards
    zero, badly so with several regressors (0.28 for a true 0.40 in the routine-start
    simulation). The Kendall / Marriott-Pope bias E[r] = a - (1 + 3a) / n is inverted with 1/n
    replaced by the design's exact white-noise bias b0 = -tr(H L) / (n - k) (H the hat matrix,
    L the one-step lag): a = (r - b0) / (1 + 3 b0), within +-``RHO_CAP`` (0.40 on average
    there).
    """
    n, k = x.shape
    order = np.argsort(offset, kind="stable")
    pos, e, rows = offset[order], resid[order], x[order]
    pairs = np.flatnonzero(np.diff(pos) == 1)
    denominator = float(e @ e)
    if len(pairs) == 0 or denominator <= 0:
        return 0.0
    r = float(e[pairs + 1] @ e[pairs]) / denominator
    b0 = -float(np.einsum("ij,jk,ik->", rows[pairs + 1], xtx_inv, rows[pairs])) / (n - k)
    return float(np.clip((r - b0) / (1.0 + 3.0 * b0), -RHO_CAP, RHO_CAP))


def ols_hac(
    y: np.ndarray,
    x: np.ndarray,
    position: np.ndarray,
    *,
    rule: str = "auto",
    prewhiten: str | None = "influence",
    floor: bool = True,
) -> Fit | None:
    """OLS of ``y`` on ``x`` (n x k, with its intercept or level columns) with Newey-West
    (Bartlett) HAC variances times n / (n - k); Student-t on n - k degrees of freedom.

    Each coefficient's variance is the long-run variance of its influence series
    ``(X'X)^-1 x_t e_t`` (the sandwich's diagonal entry), laid out on the integer times
    ``position`` (days or weeks): only rows exactly j steps apart enter the lag-j term and a
    missing row is a zero. ``rule``: :func:`bandwidth`. ``prewhiten``: None; ``"residual"``:
    AR(1) coefficient :func:`residual_ar1` for every coefficient (right for step and ramp
    regressors); ``"influence"``: that coefficient times the lag-1 autocorrelation of the
    coefficient's influence weights ``(X'X)^-1 x_t`` (the autocorrelation its influence series
    has under AR(1) errors: a day-to-day varying regressor is barely whitened, a smooth one
    fully). ``floor``: no variance below the conventional OLS one. None when ``x`` is
    rank-deficient or n <= k.
    """
    if prewhiten not in (None, "influence", "residual"):
        raise ValueError(f"prewhiten must be None, 'influence' or 'residual', not {prewhiten!r}")
    n, k = x.shape
    if n <= k or np.linalg.matrix_rank(x) < k:
        return None
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ (x.T @ y)
    resid = y - x @ beta
    offset = (position - position.min()).astype(np.int64)
    weights = np.zeros((int(offset.max()) + 1, k))
    weights[offset] = x @ xtx_inv
    influence = weights * np.bincount(offset, weights=resid, minlength=len(weights))[:, None]
    a = np.zeros(k)
    if prewhiten is not None:
        a += residual_ar1(resid, x, xtx_inv, offset)
    if prewhiten == "influence":
        a *= np.einsum("ij,ij->j", weights[1:], weights[:-1]) / np.maximum(
            np.einsum("ij,ij->j", weights, weights), np.finfo(float).tiny
        )
    variance, widths = np.empty(k), np.empty(k)
    for i in range(k):
        variance[i], widths[i] = long_run_variance(influence[:, i], n, rule, float(a[i]))
    variance *= n / (n - k)
    if floor:
        variance = np.maximum(variance, np.diag(xtx_inv) * float(resid @ resid) / (n - k))
    return Fit(beta, variance, float(n - k), widths, n)


def holm(p: Sequence[float]) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, at most 1); NaN stays NaN and is
    not counted in the family."""
    values = np.asarray(p, dtype=np.float64)
    out = np.full(values.shape, np.nan)
    tested = np.flatnonzero(np.isfinite(values))
    m = len(tested)
    running = 0.0
    for rank, i in enumerate(tested[np.argsort(values[tested], kind="stable")]):
        running = max(running, (m - rank) * values[i])
        out[i] = min(1.0, running)
    return out
