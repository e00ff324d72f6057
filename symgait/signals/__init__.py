"""Signals: arrays over time, no files and no model — gaps, low-pass filters, derivatives,
resampling, runs of a boolean signal, and the filtered kinematics recipe of inverse dynamics.

* :mod:`~symgait.signals.gaps` — fill short marker gaps (PCHIP), drop sparse markers, report both.
* :mod:`~symgait.signals.filters` — zero-phase Butterworth low-pass, finite-difference derivatives,
  resampling.
* :mod:`~symgait.signals.kinematics` — coordinates → filtered ``(q, q̇, q̈)``, including OpenSim's
  coordinate filter and spline derivatives.
* :mod:`~symgait.signals.runs` — runs of a per-frame boolean (contact labels, valid frames).
"""
