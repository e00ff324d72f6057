"""symgait.layers.verify: the importable checker and its CLI hook."""
from __future__ import annotations

import argparse

from layer_fixtures import _one_numba_thread, layer_gen_root, layer_model  # noqa: F401
from symgait.cli.verify import add_cli
from symgait.layers.verify import verify


def test_verify_passes_on_a_small_model(layer_model, capsys):
    """Every derivative kernel and both layers (both modes, both integrators) agree with central
    differences on a test model; the table names each quantity with its errors and pass/fail."""
    m, k = layer_model("floating_pair")
    report = verify(k, samples=2)
    out = capsys.readouterr().out
    assert report.ok and report.exit_code == 0, report.table()
    names = {r.quantity for r in report.rows}
    for q in ("forward_dynamics_derivatives d/dq", "forward_dynamics_vjp p", "inverse_dynamics_vjp w",
              "inverse_dynamics_derivatives d/dp", "root_residual_vjp qdd", "contact_jacobians vs -(dID/dw)^T",
              "ForwardDynamics rk4 adjoint d/dp", "ForwardDynamics semi_implicit_euler sensitivity d/dx0",
              "ForwardDynamics rk4 sensitivity vs adjoint", "InverseDynamics residual d/dw",
              "InverseDynamics joint_torques d/dq"):
        assert q in names
        assert q in out
    assert "max abs err" in out and "checks pass" in out


def test_verify_fails_above_tolerance_and_cli(layer_model, layer_gen_root):
    m, k = layer_model("pendulum2")
    report = verify(k, samples=1, tol=1e-300, layers=False, log=None)
    assert not report.ok and report.exit_code == 1
    assert "FAIL" in report.table()
    ap = argparse.ArgumentParser()
    add_cli(ap.add_subparsers(dest="cmd"))
    a = ap.parse_args(["verify", str(m.spec.path), "--samples", "1", "--generated",
                       str(layer_gen_root / "pendulum2"), "--dtype", "float64", "--no-layers"])
    assert a.fn(a) == 0
    a = ap.parse_args(["verify", str(m.spec.path), "--samples", "1", "--generated",
                       str(layer_gen_root / "pendulum2"), "--tol", "1e-300", "--no-layers"])
    assert a.fn(a) == 1
