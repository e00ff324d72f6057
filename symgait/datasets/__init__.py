"""Datasets: discovery of the shared data's sources, the build with its cache and report, splits by
subject, windows for training, the synthetic set and the inventory of a data folder.

* :mod:`~symgait.datasets.discover` — every trial of a data folder with subject, activity and files.
* :mod:`~symgait.datasets.build` — processing, per-subject fits, cache, ``index.json`` and report.
* :mod:`~symgait.datasets.cache` — sequences cached on disk by a hash of their inputs.
* :mod:`~symgait.datasets.windows` — windows of T frames over sequences.
* :mod:`~symgait.datasets.synthetic` — the built-in synthetic gait set (no files).
* :mod:`~symgait.datasets.inventory` — every motion file of a folder read, checked and tabulated.
* :mod:`~symgait.datasets.references` — Moco references and the physics floor of measured trials.
* :mod:`~symgait.datasets.lab_reference` — OpenSim's inverse dynamics of a trial on its lab's own model
  (the joint-torque reference) and that model's physics floor.
"""
