"""Signal utilities for motion data: zero-phase low-pass, finite-difference
derivatives, and resampling (e.g. force-plate data to the motion rate).

All functions take and return float64 numpy arrays, work along ``axis``
(time, default 0) and leave the other dimensions alone.  Rates are in Hz,
times in seconds; values keep their units (derivatives gain 1/s, 1/s²).
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

__all__ = ["lowpass", "derivatives", "velocity", "resample", "min_filter_length"]


def min_filter_length(order: int = 4) -> int:
    """Fewest samples :func:`lowpass` accepts for a given ``order``
    (``scipy.signal.filtfilt``'s default padding ``3*(order+1)``, plus one)."""
    return 3 * (int(order) + 1) + 1


def lowpass(data, cutoff: float, rate: float, order: int = 4, axis: int = 0) -> np.ndarray:
    """Zero-phase Butterworth low-pass filter (``scipy.signal.butter`` + ``filtfilt``).

    Parameters
    ----------
    data : array_like, time along ``axis``
    cutoff : float
        Cut-off frequency in Hz (0 < cutoff < rate/2).  Because the filter is
        run forward and backward, the gain at ``cutoff`` is -6 dB (the
        single-pass -3 dB squared) and the effective order is ``2*order``.
    rate : float
        Sampling rate in Hz.
    order : int
        Butterworth order of one pass (default 4).

    Raises
    ------
    ValueError
        If the signal is too short (fewer than :func:`min_filter_length`
        samples), contains NaN/inf, or the cut-off is not below Nyquist.
    """
    from scipy.signal import butter, filtfilt

    x = np.asarray(data, dtype=np.float64)
    if x.ndim == 0:
        raise ValueError("lowpass needs an array with a time axis, got a scalar")
    n = x.shape[axis]
    need = min_filter_length(order)
    if n < need:
        raise ValueError(
            f"lowpass: signal has {n} samples along axis {axis}; a zero-phase Butterworth "
            f"filter of order {order} needs at least {need} (filtfilt pads "
            f"{3 * (order + 1)} samples at each end)")
    if not (rate > 0):
        raise ValueError(f"lowpass: rate must be positive, got {rate}")
    nyq = rate / 2.0
    if not (0 < cutoff < nyq):
        raise ValueError(f"lowpass: cutoff {cutoff} Hz must lie in (0, {nyq}) Hz "
                         f"(Nyquist of {rate} Hz)")
    if not np.all(np.isfinite(x)):
        raise ValueError("lowpass: data contain NaN or inf (fill gaps before filtering)")
    b, a = butter(order, cutoff / nyq, btype="low")
    return filtfilt(b, a, x, axis=axis)


def derivatives(q, rate: Optional[float] = None, *, t=None, axis: int = 0
                ) -> Tuple[np.ndarray, np.ndarray]:
    """First and second time derivatives by finite differences.

    Central differences in the interior and second-order one-sided
    differences at both ends (``np.gradient(..., edge_order=2)``), applied twice:
    ``qd = gradient(q)``, ``qdd = gradient(qd)``.  Exact for polynomials of
    degree <= 2 (first derivative) and for linear ``qd``.

    Give either ``rate`` (Hz, uniform sampling) or ``t`` (sample times, s).
    Returns ``(qdot, qddot)`` with the shape of ``q``.
    """
    x = np.asarray(q, dtype=np.float64)
    if x.ndim == 0:
        raise ValueError("derivatives needs an array with a time axis, got a scalar")
    n = x.shape[axis]
    if n < 3:
        raise ValueError(f"derivatives: need at least 3 samples along axis {axis}, got {n}")
    if (rate is None) == (t is None):
        raise ValueError("derivatives: give exactly one of rate (Hz) or t (times)")
    if t is not None:
        spacing = np.asarray(t, dtype=np.float64)
        if spacing.shape != (n,):
            raise ValueError(f"derivatives: t has shape {spacing.shape}, expected ({n},)")
        if np.any(np.diff(spacing) <= 0):
            raise ValueError("derivatives: t must be strictly increasing")
    else:
        if not (rate > 0):
            raise ValueError(f"derivatives: rate must be positive, got {rate}")
        spacing = 1.0 / float(rate)
    qd = np.gradient(x, spacing, axis=axis, edge_order=2)
    qdd = np.gradient(qd, spacing, axis=axis, edge_order=2)
    return qd, qdd


def velocity(x, rate: float) -> np.ndarray:
    """First time derivative along axis 0 of samples at ``rate`` Hz by central differences (first-order
    one-sided at the ends; ``np.gradient``), zero for a single sample: the velocity that contact
    detection thresholds.  Inverse dynamics takes :func:`derivatives` (second-order ends) of filtered
    coordinates (:mod:`symgait.signals.kinematics`)."""
    x = np.asarray(x, dtype=np.float64)
    return np.gradient(x, 1.0 / rate, axis=0) if x.shape[0] > 1 else np.zeros_like(x)


def _uniform_rate(t: np.ndarray, what: str) -> float:
    """Rate of (nearly) uniform sample times.  Time stamps rounded in the file
    (e.g. OpenSim's 600 Hz grf.mot: 0, 0.0017, 0.0033, ...) are accepted: each
    time must lie within a quarter step of the uniform grid through the ends."""
    n = t.size
    if n < 2 or np.any(np.diff(t) <= 0):
        raise ValueError(f"resample: {what} must be strictly increasing with >= 2 samples")
    dt = (t[-1] - t[0]) / (n - 1)
    dev = np.abs(t - (t[0] + dt * np.arange(n)))
    if dev.max() > 0.25 * dt:
        raise ValueError(f"resample: anti-aliasing needs uniformly sampled {what} "
                         f"(a time is {dev.max():.3g} s off the uniform grid of step {dt:.6g} s)")
    return 1.0 / dt


def resample(data, t_src, t_dst, *, axis: int = 0, antialias: bool = False,
             cutoff: Optional[float] = None, order: int = 4, outside: str = "raise",
             tol: Optional[float] = None) -> np.ndarray:
    """Resample ``data`` sampled at times ``t_src`` onto times ``t_dst``.

    Linear interpolation along ``axis``.  With ``antialias=True`` the data are
    first low-passed (:func:`lowpass`, zero-phase) at ``cutoff`` Hz — by
    default 0.4 x the destination rate, i.e. 80 % of its Nyquist frequency —
    which is the right thing when decimating (e.g. 600 Hz force to 60 Hz motion).
    Anti-aliasing needs uniformly sampled ``t_src`` and ``t_dst``.

    ``outside``: what to do with ``t_dst`` beyond ``[t_src[0], t_src[-1]]``
    (``tol`` = half a source step is allowed): ``"raise"`` (default),
    ``"clip"`` (hold the end values) or ``"nan"``.
    """
    x = np.asarray(data, dtype=np.float64)
    ts = np.asarray(t_src, dtype=np.float64).ravel()
    td = np.asarray(t_dst, dtype=np.float64).ravel()
    x = np.moveaxis(x, axis, 0)
    if x.shape[0] != ts.size:
        raise ValueError(f"resample: data have {x.shape[0]} samples along axis {axis} but "
                         f"t_src has {ts.size}")
    if ts.size < 2 or np.any(np.diff(ts) <= 0):
        raise ValueError("resample: t_src must be strictly increasing with >= 2 samples")
    if outside not in ("raise", "clip", "nan"):
        raise ValueError(f"resample: outside must be 'raise', 'clip' or 'nan', got {outside!r}")
    if tol is None:
        tol = 0.5 * float(np.min(np.diff(ts)))
    lo, hi = ts[0] - tol, ts[-1] + tol
    out_mask = (td < lo) | (td > hi)
    if outside == "raise" and np.any(out_mask):
        raise ValueError(f"resample: target times span [{td.min():.6g}, {td.max():.6g}] s, "
                         f"beyond the source [{ts[0]:.6g}, {ts[-1]:.6g}] s "
                         "(use outside='clip' or 'nan')")
    if antialias:
        rs = _uniform_rate(ts, "t_src")
        rd = _uniform_rate(td, "t_dst") if td.size > 1 else rs
        fc = 0.4 * rd if cutoff is None else float(cutoff)
        if fc < rs / 2.0:
            x = lowpass(x, fc, rs, order=order, axis=0)
    tq = np.clip(td, ts[0], ts[-1])
    i = np.clip(np.searchsorted(ts, tq, side="right") - 1, 0, ts.size - 2)
    w = (tq - ts[i]) / (ts[i + 1] - ts[i])
    w = w.reshape((-1,) + (1,) * (x.ndim - 1))
    y = (1.0 - w) * x[i] + w * x[i + 1]
    if outside == "nan" and np.any(out_mask):
        y[out_mask] = np.nan
    return np.moveaxis(y, 0, axis)
