"""PyTorch physics layers over the generated kernels (needs ``torch``).

* :class:`ForwardDynamics` -- integrate the equations of motion over frames (RK4 or semi-implicit
  Euler), gradients by stored discrete sensitivities or by the discrete adjoint.
* :class:`InverseDynamics` -- per-frame root residual wrench and joint torques.
* :class:`ForwardKinematics` -- world positions (and velocities) of named points, gradients by the
  point Jacobians.
* :func:`inverse_loss` -- residual force + moment norm per kg of body mass.
* :func:`finite_difference_velocities` -- q̇, q̈ from sampled q, consistent with the forward layer.
* :func:`integrate` -- q ⊕ v dt of a model with quaternion joints, differentiable (a configuration
  parametrized by a tangent vector).
* :mod:`symgait.layers.verify` -- every derivative and both layers against central differences
  (``symgait verify MODEL``).

See docs/layers.md.
"""
from .configuration import integrate
from .finite_difference import finite_difference_velocities
from .forward import ForwardDynamics
from .inverse import InverseDynamics, inverse_loss
from .kinematics import ForwardKinematics

__all__ = ["ForwardDynamics", "InverseDynamics", "ForwardKinematics", "inverse_loss", "finite_difference_velocities",
           "integrate"]
