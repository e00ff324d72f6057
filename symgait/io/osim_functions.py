"""OpenSim ``Function`` objects as plain data, and their evaluation.

An OpenSim ``TransformAxis`` maps a coordinate (rad or m) to a rotation angle
(rad) or a translation (m) through one of these functions.  They are kept as
data (knots, coefficients) so that symbolic code can rebuild or approximate
them; :func:`evaluate` gives their values (and derivatives) numerically, matching
OpenSim's definitions:

* ``Constant``: ``value``.
* ``LinearFunction``: ``coefficients = [slope, intercept]``.
* ``SimmSpline``: cubic interpolating spline with the end conditions of
  Forsythe, Malcolm & Moler (third derivative at each end equal to that of the
  cubic through the four nearest knots; 3 knots: one parabola; 2 knots: a line),
  extended *linearly* with the end slopes outside the knots, as OpenSim does.
* ``NaturalCubicSpline``: natural cubic spline (zero second derivative at the
  ends), linear extension outside the knots.
* ``PiecewiseLinearFunction``: linear interpolation, linear extension.
* ``PolynomialFunction``: ``coefficients`` from the highest power down.
* ``GCVSpline``: OpenSim fits a generalized-cross-validation smoothing spline;
  here it is approximated by the *interpolating* B-spline of the same degree
  through the knots (exact when the data were not smoothed).
* ``MultiplierFunction``: ``scale * function(x)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple, Union

import numpy as np

__all__ = [
    "Constant",
    "LinearFunction",
    "SimmSpline",
    "NaturalCubicSpline",
    "PiecewiseLinearFunction",
    "PolynomialFunction",
    "GCVSpline",
    "MultiplierFunction",
    "OsimFunction",
    "evaluate",
    "spline_coefficients",
]


@dataclass(frozen=True)
class Constant:
    value: float


@dataclass(frozen=True)
class LinearFunction:
    slope: float
    intercept: float


@dataclass(frozen=True)
class _XY:
    x: np.ndarray
    y: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "x", np.asarray(self.x, dtype=np.float64).ravel())
        object.__setattr__(self, "y", np.asarray(self.y, dtype=np.float64).ravel())
        if self.x.shape != self.y.shape or self.x.size < 1:
            raise ValueError(f"{type(self).__name__}: x and y need the same non-zero length, "
                             f"got {self.x.size} and {self.y.size}")
        if np.any(np.diff(self.x) <= 0):
            raise ValueError(f"{type(self).__name__}: x must be strictly increasing")

    def __eq__(self, other):
        return (type(self) is type(other) and np.array_equal(self.x, other.x)
                and np.array_equal(self.y, other.y))

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, eq=False)
class SimmSpline(_XY):
    pass


@dataclass(frozen=True, eq=False)
class NaturalCubicSpline(_XY):
    pass


@dataclass(frozen=True, eq=False)
class PiecewiseLinearFunction(_XY):
    pass


@dataclass(frozen=True, eq=False)
class GCVSpline(_XY):
    degree: int = 5


@dataclass(frozen=True)
class PolynomialFunction:
    coefficients: Tuple[float, ...]  # highest power first


@dataclass(frozen=True)
class MultiplierFunction:
    function: "OsimFunction"
    scale: float


OsimFunction = Union[Constant, LinearFunction, SimmSpline, NaturalCubicSpline,
                     PiecewiseLinearFunction, PolynomialFunction, GCVSpline, MultiplierFunction]


def spline_coefficients(x: np.ndarray, y: np.ndarray, kind: str = "simm") -> np.ndarray:
    """Second derivatives ``M`` (n,) at the knots of a cubic interpolating spline.

    ``kind="simm"``: Forsythe–Malcolm–Moler end conditions (OpenSim SimmSpline);
    ``kind="natural"``: ``M[0] = M[-1] = 0``.  For n == 2 the spline is the line
    through the points (M = 0); for n == 3 with ``"simm"`` it is the parabola.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = x.size
    if n <= 2:
        return np.zeros(n)
    h = np.diff(x)
    delta = np.diff(y) / h
    A = np.zeros((n, n))
    r = np.zeros(n)
    for i in range(1, n - 1):
        A[i, i - 1] = h[i - 1]
        A[i, i] = 2.0 * (h[i - 1] + h[i])
        A[i, i + 1] = h[i]
        r[i] = 6.0 * (delta[i] - delta[i - 1])
    if kind == "natural":
        A[0, 0] = A[-1, -1] = 1.0
    elif kind == "simm":
        # third derivative of the spline on the end interval, (M1-M0)/h0,
        # equals 6 x the third divided difference of the 4 end knots (0 if n == 3)
        A[0, 0], A[0, 1] = -1.0, 1.0
        A[-1, -2], A[-1, -1] = -1.0, 1.0
        if n > 3:
            def dd3(xs, ys):
                d1 = np.diff(ys) / np.diff(xs)
                d2 = np.diff(d1) / (xs[2:] - xs[:-2])
                return (d2[1] - d2[0]) / (xs[3] - xs[0])

            r[0] = 6.0 * h[0] * dd3(x[:4], y[:4])
            r[-1] = 6.0 * h[-1] * dd3(x[-4:], y[-4:])
    else:
        raise ValueError(f"unknown spline kind {kind!r}")
    return np.linalg.solve(A, r)


def _cubic_eval(x, y, M, xq, deriv):
    """Evaluate the cubic spline (knots x, y, second derivatives M) with linear
    extension outside [x0, xn-1]."""
    n = x.size
    if n == 1:
        return np.full_like(xq, y[0] if deriv == 0 else 0.0)
    h = np.diff(x)
    b = np.diff(y) / h - h * (2.0 * M[:-1] + M[1:]) / 6.0  # first derivative at left knots
    slope_end = b[-1] + h[-1] * (M[-2] + M[-1]) / 2.0       # first derivative at x[-1]
    i = np.clip(np.searchsorted(x, xq, side="right") - 1, 0, n - 2)
    t = xq - x[i]
    c2 = M[i] / 2.0
    c3 = (M[i + 1] - M[i]) / (6.0 * h[i])
    if deriv == 0:
        out = y[i] + t * (b[i] + t * (c2 + t * c3))
    elif deriv == 1:
        out = b[i] + t * (2.0 * c2 + 3.0 * t * c3)
    elif deriv == 2:
        out = 2.0 * c2 + 6.0 * t * c3
    else:
        raise ValueError("deriv must be 0, 1 or 2")
    lo = xq < x[0]
    hi = xq > x[-1]
    if deriv == 0:
        out = np.where(lo, y[0] + (xq - x[0]) * b[0], out)
        out = np.where(hi, y[-1] + (xq - x[-1]) * slope_end, out)
    elif deriv == 1:
        out = np.where(lo, b[0], out)
        out = np.where(hi, slope_end, out)
    else:
        out = np.where(lo | hi, 0.0, out)
    return out


def evaluate(function: OsimFunction, x, deriv: int = 0) -> np.ndarray:
    """Value (``deriv=0``) or first/second derivative of an OpenSim function at ``x``.

    ``x`` is the coordinate value (rad for rotational, m for translational
    coordinates, as OpenSim stores them); any array shape; returns float64 of the
    same shape (a 0-d array for scalar input).
    """
    xq = np.asarray(x, dtype=np.float64)
    if isinstance(function, MultiplierFunction):
        return function.scale * evaluate(function.function, xq, deriv)
    if isinstance(function, Constant):
        return np.full_like(xq, function.value if deriv == 0 else 0.0)
    if isinstance(function, LinearFunction):
        if deriv == 0:
            return function.slope * xq + function.intercept
        return np.full_like(xq, function.slope if deriv == 1 else 0.0)
    if isinstance(function, PolynomialFunction):
        p = np.poly1d(function.coefficients)
        for _ in range(deriv):
            p = p.deriv()
        return np.asarray(p(xq), dtype=np.float64)
    if isinstance(function, PiecewiseLinearFunction):
        x0, y0 = function.x, function.y
        if x0.size == 1:
            return np.full_like(xq, y0[0] if deriv == 0 else 0.0)
        s = np.diff(y0) / np.diff(x0)
        i = np.clip(np.searchsorted(x0, xq, side="right") - 1, 0, x0.size - 2)
        if deriv == 0:
            return y0[i] + (xq - x0[i]) * s[i]
        return s[i] if deriv == 1 else np.zeros_like(xq)
    if isinstance(function, (SimmSpline, NaturalCubicSpline)):
        kind = "simm" if isinstance(function, SimmSpline) else "natural"
        M = spline_coefficients(function.x, function.y, kind)
        return _cubic_eval(function.x, function.y, M, xq, deriv)
    if isinstance(function, GCVSpline):
        from scipy.interpolate import make_interp_spline

        k = min(int(function.degree), function.x.size - 1)
        spl = make_interp_spline(function.x, function.y, k=max(k, 1))
        return np.asarray(spl(xq, nu=deriv) if deriv else spl(xq), dtype=np.float64)
    raise TypeError(f"cannot evaluate {type(function).__name__}")
