"""Physical constants used across the package (SI units)."""

STANDARD_GRAVITY = 9.80665  # m/s^2, standard acceleration of gravity (body weight = mass * STANDARD_GRAVITY)
