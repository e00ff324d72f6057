"""Markers: conventions and their automatic detection, registration of unknown labels, and inverse
kinematics from a trial's markers (or joint centres) to model coordinates.

* :mod:`~symgait.markers.sources` — a trial's file as retargeting targets in OpenSim axes.
* :mod:`~symgait.markers.markersets`, :mod:`~symgait.markers.conventions`,
  :mod:`~symgait.markers.anatomical_names`, :mod:`~symgait.markers.osim_markerset` — marker-set maps
  (built-in tables, anatomical spellings, an OpenSim model's MarkerSet) and their detection.
* :mod:`~symgait.markers.body_markers` — body-fixed markers as affine combinations of model points.
* :mod:`~symgait.markers.registration` — markers with unknown labels assigned to bodies.
* :mod:`~symgait.markers.ik`, :mod:`~symgait.markers.ik_report` — inverse kinematics and its report.
* :mod:`~symgait.markers.fit` — one call from a trial's markers to coordinates and an IK report.
"""
