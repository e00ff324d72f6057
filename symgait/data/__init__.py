"""Motion data in, consistent dynamics out: retargeting, signals, contact wrenches and
labels, derived labels, augmentation, datasets, the ``symgait id`` command and the OpenSim
converter/validation.

Modules (imported on demand, so ``import symgait.data`` stays light):

* :mod:`~symgait.data.ik` — inverse kinematics / retargeting (Levenberg–Marquardt).
* :mod:`~symgait.data.markersets` — built-in marker-set maps and user mapping files.
* :mod:`~symgait.data.motion` — load a trial (TRC, C3D, ASF/AMC, BVH, OpenSim .mot) as targets.
* :mod:`~symgait.data.signals` — filtering and derivatives (incl. OpenSim's recipe).
* :mod:`~symgait.data.contacts` — force plates ↔ model wrenches, contact labels.
* :mod:`~symgait.data.derived` — labels without plates: root residual distributed to the feet.
* :mod:`~symgait.data.augment` — mirroring, joint-angle noise, contact-label noise.
* :mod:`~symgait.data.dataset` — sequences, npz cache, windows; :mod:`~symgait.data.synthetic`.
* :mod:`~symgait.data.osim_to_yaml`, :mod:`~symgait.data.validation` — OpenSim models and results.
* :mod:`~symgait.data.pipeline` — one trial from files to a :class:`~symgait.data.dataset.Sequence`.
* :mod:`~symgait.data.id_command` — ``symgait id`` (``add_cli(subparsers)`` registers it).

Figures and method of the OpenSim comparison: ``docs/validation.md``.
"""
