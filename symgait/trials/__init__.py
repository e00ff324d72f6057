"""Trials: one trial's files → a consistent :class:`~symgait.trials.sequence.Sequence`, and what is
measured on a single trial.

* :mod:`~symgait.trials.sequence` — the sequence of consistent dynamics every later stage reads.
* :mod:`~symgait.trials.pipeline` — retarget, filter, wrenches, labels, inverse dynamics.
* :mod:`~symgait.trials.trunk` — a trunk no marker sees keeps the root's slow orientation.
* :mod:`~symgait.trials.coordinates` — coordinates from an OpenSim ``.mot``.
* :mod:`~symgait.trials.consistency`, :mod:`~symgait.trials.residual_reduction` — segment parameters
  and kinematic changes within the marker error that make a motion agree with its plates.
* :mod:`~symgait.trials.synchrony` — timing between motion and forces.
* :mod:`~symgait.trials.augment` — mirroring, joint-angle and contact-label noise.
* :mod:`~symgait.trials.opensim_id`, :mod:`~symgait.trials.osim_model` — OpenSim's inverse dynamics
  reproduced on a converted model.
"""
