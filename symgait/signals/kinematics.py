"""Kinematic signal processing for inverse dynamics: filtered coordinates and their derivatives.

Two recipes, both returning ``(q, qd, qdd)`` at the input sample times:

* :func:`filtered_kinematics` (``method="butter"``, the default of the ``symgait id`` command):
  zero-phase 4th-order Butterworth low-pass (:func:`symgait.io.lowpass`) then finite
  differences (:func:`symgait.io.derivatives`).
* ``method="opensim"`` (:func:`opensim_coordinate_filter`): what OpenSim's InverseDynamicsTool
  does with ``lowpass_cutoff_frequency_for_coordinates`` (opensim-core ``InverseDynamicsTool::run``,
  ``Storage::pad``/``lowpassIIR``, ``Signal::Pad``/``LowpassIIR``): the table is padded at both
  ends with ``N//2`` samples (odd reflection about the end values, which keeps value and slope),
  filtered forward and backward with OpenSim's 3rd-order IIR Butterworth (bilinear transform
  with pre-warping; the first three samples of each pass are copied, not filtered), then a
  degree-5 spline through the padded, filtered samples gives q, q̇ and q̈.  OpenSim fits a
  ``GCVSpline`` with zero error variance, i.e. an interpolating natural quintic spline; here
  SciPy's interpolating quintic B-spline with natural end conditions (3rd and 4th derivative
  zero) is used — the same function up to round-off away from the padded ends.
"""
from __future__ import annotations

import math

import numpy as np
from .filters import derivatives, lowpass, min_filter_length

__all__ = ["opensim_lowpass_iir", "opensim_pad", "quintic_spline_derivatives",
           "opensim_coordinate_filter", "filtered_kinematics"]


def opensim_pad(x: np.ndarray, npad: int, axis: int = 0) -> np.ndarray:
    """OpenSim's ``Signal::Pad``: prepend/append ``npad`` samples reflected about the end
    samples and negated (``2*x[0] - x[npad-i]``), keeping value and slope continuous."""
    x = np.moveaxis(np.asarray(x, dtype=np.float64), axis, 0)
    n = x.shape[0]
    if npad == 0:
        return np.moveaxis(x.copy(), 0, axis)
    if npad > n - 1:
        raise ValueError(f"opensim_pad: pad {npad} needs at least {npad + 1} samples, got {n}")
    pre = 2.0 * x[0] - x[npad:0:-1]
    post = 2.0 * x[-1] - x[-2:-npad - 2:-1]
    return np.moveaxis(np.concatenate([pre, x, post], axis=0), 0, axis)


def opensim_lowpass_iir(x, cutoff: float, rate: float, axis: int = 0) -> np.ndarray:
    """OpenSim's ``Signal::LowpassIIR``: 3rd-order Butterworth run forward and backward
    (first three samples of each pass copied unfiltered), no padding (see :func:`opensim_pad`)."""
    x = np.moveaxis(np.asarray(x, dtype=np.float64), axis, 0)
    n = x.shape[0]
    if n < 4:
        raise ValueError(f"opensim_lowpass_iir: need at least 4 samples, got {n}")
    T = 1.0 / rate
    fc = cutoff if cutoff < 0.5 * rate else 0.49 * rate
    wa = math.tan(2.0 * math.pi * fc * T / 2.0)
    wa2, wa3 = wa * wa, wa ** 3
    den = (wa + 1.0) * (wa2 + wa + 1.0)
    a = np.array([wa3, 3 * wa3, 3 * wa3, wa3]) / den
    b = np.array([1.0, (3 * wa3 + 2 * wa2 - 2 * wa - 3) / den, (3 * wa3 - 2 * wa2 - 2 * wa + 3) / den,
                  (wa - 1) * (wa2 - wa + 1) / den])

    def one_pass(s):
        f = np.empty_like(s)
        f[:3] = s[:3]
        for i in range(3, n):
            f[i] = (a[0] * s[i] + a[1] * s[i - 1] + a[2] * s[i - 2] + a[3] * s[i - 3]
                    - b[1] * f[i - 1] - b[2] * f[i - 2] - b[3] * f[i - 3])
        return f

    y = one_pass(x)
    y = one_pass(y[::-1].copy())[::-1]
    return np.moveaxis(np.ascontiguousarray(y), 0, axis)


def quintic_spline_derivatives(t, x, t_eval=None):
    """Interpolating natural quintic spline through ``(t, x)`` (x: (N, ...)): values, first and
    second derivatives at ``t_eval`` (default ``t``)."""
    from scipy.interpolate import make_interp_spline

    t = np.asarray(t, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    shape = x.shape[1:]
    flat = x.reshape(x.shape[0], -1)
    z = np.zeros(flat.shape[1])
    bc = ([(3, z), (4, z)], [(3, z), (4, z)])
    spl = make_interp_spline(t, flat, k=5, bc_type=bc)
    te = t if t_eval is None else np.asarray(t_eval, dtype=np.float64)
    out = [spl(te, nu=d).reshape((te.shape[0],) + shape) for d in range(3)]
    return out[0], out[1], out[2]


def opensim_coordinate_filter(q, t, cutoff: float = 6.0):
    """``(q, qd, qdd)`` as OpenSim's InverseDynamicsTool computes them (see module docstring).

    ``q`` (T, n) in radians/metres (the filter is linear, so degrees work too), ``t`` (T,) s.
    ``cutoff <= 0`` skips the filter (spline only, like OpenSim's -1)."""
    q = np.asarray(q, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    n = q.shape[0]
    if cutoff is None or cutoff <= 0:
        return quintic_spline_derivatives(t, q)
    npad = n // 2
    qp = opensim_pad(q, npad)
    tp = opensim_pad(t, npad)
    rate = (n - 1) / (t[-1] - t[0])
    qf = opensim_lowpass_iir(qp, cutoff, rate)
    return quintic_spline_derivatives(tp, qf, t)


def filtered_kinematics(q, rate: float | None = None, *, t=None, cutoff: float | None = 6.0,
                        method: str = "butter", order: int = 4):
    """Low-pass filtered coordinates and their first and second time derivatives.

    ``method="butter"``: :func:`symgait.io.lowpass` (zero-phase Butterworth of ``order``; skipped
    when ``cutoff`` is None/<=0 or the trial is too short) + :func:`symgait.io.derivatives`.
    ``method="opensim"``: :func:`opensim_coordinate_filter`.  Give ``rate`` (Hz) or ``t`` (s).
    """

    q = np.asarray(q, dtype=np.float64)
    if t is None:
        if rate is None:
            raise ValueError("filtered_kinematics: give rate (Hz) or t (s)")
        t = np.arange(q.shape[0]) / float(rate)
    t = np.asarray(t, dtype=np.float64)
    if rate is None:
        rate = (t.size - 1) / (t[-1] - t[0])
    if method == "opensim":
        return opensim_coordinate_filter(q, t, cutoff or 0.0)
    if method != "butter":
        raise ValueError(f"method must be 'butter' or 'opensim', got {method!r}")
    qf = q
    if cutoff and cutoff > 0 and q.shape[0] >= min_filter_length(order) and cutoff < rate / 2:
        qf = lowpass(q, cutoff, rate, order=order)
    qd, qdd = derivatives(qf, rate)
    return qf, qd, qdd
