"""Two processes converting the same OpenSim model at once (symgait.trials.osim_model): one
generates its kernels, the other waits for it and loads them; both compute the same inverse
dynamics, and the cache holds one complete generated folder."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from symgait_testing import subprocess_env

REPO = Path(__file__).resolve().parents[2]
OSIM = "opensim/gait10dof_subject01_walk/subject01.osim"

CODE = """
import sys, numpy as np
from symgait.trials.osim_model import build_osim_model
conv, model, kern = build_osim_model(sys.argv[1], cache_dir=sys.argv[2], log=lambda *a: print(*a))
rng = np.random.default_rng(0)
q, qd, qdd = (rng.normal(scale=0.3, size=(4, model.nq)) for _ in range(3))
p = model.parameters(height=1.8, mass=75.0)
tau = kern.inverse_dynamics(q, qd, qdd, np.zeros((4, model.n_contacts, 6)), p)
np.save(sys.argv[3], tau)
print("tau", tau.shape)
"""


def test_two_processes_build_the_same_converted_model(data, tmp_path):
    osim = data(OSIM)
    env = subprocess_env(SYMGAIT_CACHE_DIR=str(tmp_path / "user"))
    cache = tmp_path / "cache"
    procs = [subprocess.Popen([sys.executable, "-c", CODE, str(osim), str(cache), str(tmp_path / f"tau{i}.npy")],
                              cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    generated = [out.count("[4/4] wrote") for out, _ in outs]
    assert sorted(generated) == [0, 1], outs         # one generation; the other process waited
    t0, t1 = np.load(tmp_path / "tau0.npy"), np.load(tmp_path / "tau1.npy")
    assert np.isfinite(t0).all() and np.array_equal(t0, t1)
    (d,) = (cache / "models").iterdir()
    assert sorted(x.name for x in d.iterdir()) == ["generated", "subject01.yaml"]
    assert (d / "generated" / "manifest.json").is_file()
    assert not [x for x in d.rglob("*") if ".tmp" in x.name]
