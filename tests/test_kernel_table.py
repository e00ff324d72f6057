"""The kernel table is the one declaration of every kernel: manifests, results and README agree with it."""
from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest

import symgait
from symgait.paths import default_dir
from symgait.symbolic.kernel_table import ALIASES, EXTRA_RESULTS, KERNELS, arguments, dimensions

from symgait_testing import REPO


def test_manifests_record_the_table():
    for name in ("planar", "gait3d", "fullbody"):
        m = symgait.load_model(name)
        man = json.loads((default_dir(m) / "manifest.json").read_text())
        dims = dimensions(m.nq, m.n_contacts, m.n_parameters, len(m.points))
        assert set(man["kernels"]) == set(KERNELS)
        for k, spec in KERNELS.items():
            ins, outs = arguments(k, dims)
            assert man["kernels"][k]["inputs"] == [list(a) for a in ins]
            assert man["kernels"][k]["outputs"] == [list(o) for o in outs]
            assert [r[0] for r in man["kernels"][k]["results"].values()] == [o.key for o in spec.outputs]


def test_results_carry_the_table_keys_and_the_old_ones_warn():
    m = symgait.load_model("planar")
    k = symgait.kernels(m)
    rng = np.random.default_rng(0)
    B, n = 3, m.nq
    q, qd, qdd, tau = (rng.normal(size=(B, n)) for _ in range(4))
    w = rng.normal(size=(B, m.n_contacts, 6))
    p = m.parameters()
    calls = {"inverse_dynamics_derivatives": lambda: k.inverse_dynamics_derivatives(q, qd, qdd, w, p),
             "forward_dynamics_derivatives": lambda: k.forward_dynamics_derivatives(q, qd, tau, w, p),
             "inverse_dynamics_vjp": lambda: k.inverse_dynamics_vjp(q, qd, qdd, w, p, qd),
             "root_residual_vjp": lambda: k.root_residual_vjp(q, qd, qdd, w, p, rng.normal(size=(B, 6))),
             "forward_dynamics_vjp": lambda: k.forward_dynamics_vjp(q, qd, tau, w, p, qd)}
    for name, call in calls.items():
        r = call()
        expected = [o.key for o in KERNELS[name].outputs] + list(EXTRA_RESULTS.get(name, {}))
        assert sorted(r) == sorted(expected), name
        for old, new in ALIASES[name].items():
            with pytest.warns(DeprecationWarning, match=f"use '{new}'"):
                assert r[old] is r[new]
            assert old in r
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for key in expected:
                r[key]
    with pytest.raises(KeyError, match="dqdd_dq"):
        calls["forward_dynamics_derivatives"]()["dq"]
    r = k.forward_dynamics_derivatives(q, qd, tau, w, p, parameters=False)
    assert "dqdd_dp" not in r and "p" not in r


def test_readme_names_every_result_key():
    readme = (REPO / "README.md").read_text()
    api = readme[readme.index("## API"):readme.index("## Command line")]
    keys = {o.key for k in ("inverse_dynamics_derivatives", "forward_dynamics_derivatives",
                            "inverse_dynamics_vjp", "forward_dynamics_vjp") for o in KERNELS[k].outputs}
    keys |= {key for extra in EXTRA_RESULTS.values() for key in extra}
    quoted = set(re.findall(r"'([a-z_]+)'", api))
    assert keys <= quoted, sorted(keys - quoted)
    assert "kernel_table.py" in api
