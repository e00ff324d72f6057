"""Physical constants used across the package (SI units)."""

STANDARD_GRAVITY = 9.80665  # m/s^2, standard acceleration of gravity (body weight = mass * STANDARD_GRAVITY)

# Low-pass cut-off (Hz) of the joint coordinates per activity, chosen by the physics floor (the root
# residual force with the plates, docs/results.md "Physics floor per source"): over walking the floor
# is flat between 6 and 8 Hz, over running 8 Hz is lowest (2.00 against 2.11 N/kg at 6 Hz).
KINEMATICS_CUTOFF_HZ = {"walking": 6.0, "running": 8.0}
