"""`symgait verify` on the built-in models, through the command line as a user runs it.

Every generated derivative kernel (ID and FD Jacobians in q, q̇, q̈/τ, w, p; the three VJPs; point
and contact Jacobians) and both layers in both gradient modes and both integrators, against
fourth-order central differences (symgait/layers/verify.py). The test runs in the model's xdist
group (tests/conftest.py), so it reuses the kernels that group's other tests compiled.
"""
from __future__ import annotations

import pytest

from symgait.cli import main
from symgait_testing import BUILTIN


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILTIN)
def test_symgait_verify_builtin_model(name, capsys):
    rc = main(["verify", name, "--samples", "2"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "FAIL" not in out
    # the table covers the kernels and both layers in both modes
    for quantity in ("forward_dynamics_derivatives d/dp", "root_residual_vjp w",
                     "ForwardDynamics rk4 adjoint d/dtau", "ForwardDynamics rk4 sensitivity vs adjoint",
                     "InverseDynamics residual d/dp"):
        assert quantity in out, f"{quantity!r} missing from the verify table:\n{out}"
