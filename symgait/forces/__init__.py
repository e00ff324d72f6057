"""Forces: force plates → contact wrenches in the model convention, centre of pressure, plate-to-foot
assignment, contact labels, and labels derived without plates.

* :mod:`~symgait.forces.wrench` — centre of pressure ↔ wrench, moment transport.
* :mod:`~symgait.forces.contacts` — plates (C3D, OpenSim .mot + ExternalLoads) → ground reactions
  per foot → model wrenches; contact labels from forces or kinematics.
* :mod:`~symgait.forces.derived` — contact wrenches that explain the motion when no plate measured it.
"""
