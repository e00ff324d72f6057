"""Dataset: the built-in synthetic gait set (no data needed), npz cache, windows."""
import numpy as np

from symgait.trials.sequence import Sequence
from symgait.datasets.cache import SequenceCache
from symgait.datasets.windows import WindowDataset
from symgait.datasets.synthetic import synthetic_gait


def test_synthetic_gait_consistent(kern, tmp_path):
    for model in ("planar", "gait3d"):
        m, k = kern(model)
        cache = SequenceCache(tmp_path)
        seqs = synthetic_gait(m, n_sequences=2, seconds=2.0, rate=100, kern=k, cache=cache)
        for s in seqs:
            assert s.label_kind == "derived" and s.source == "synthetic"
            r = k.root_residual(s.q, s.qd, s.qdd, s.w, s.p)
            assert np.abs(r).max() < 1e-8 * s.mass * 9.81
            assert np.allclose(k.inverse_dynamics(s.q, s.qd, s.qdd, s.w, s.p), s.tau)
            # walking: forward progress, body weight carried, realistic joint torques
            speed = (s.q[-1, 0] - s.q[0, 0]) / s.time[-1]
            assert 0.5 < speed < 2.0
            assert abs(s.w[..., 1].sum(1).mean() / (s.mass * 9.80665) - 1) < 0.1
            assert np.abs(s.JT).max() / s.mass < 5.0
            assert s.contact.any(0).all()
        again = synthetic_gait(m, n_sequences=2, seconds=2.0, rate=100, kern=k, cache=cache)
        assert np.array_equal(again[1].q, seqs[1].q)                 # served from the cache


def test_sequence_save_load_windows(kern, tmp_path):
    m, k = kern("planar")
    s = synthetic_gait(m, n_sequences=1, seconds=1.5, rate=100, kern=k)[0]
    path = s.save(tmp_path / "s.npz")
    s2 = Sequence.load(path)
    for key in ("q", "qd", "qdd", "w", "tau", "contact", "p", "time"):
        assert np.array_equal(getattr(s2, key), getattr(s, key))
    assert s2.actuated == s.actuated and s2.label_kind == "derived"
    assert s2.JT.shape == (len(s), m.n_actuated)
    ds = WindowDataset([s, s2], length=50, stride=25)
    assert len(ds) == 2 * ((len(s) - 50) // 25 + 1)
    x = ds[1]
    assert x["q"].shape == (50, m.nq) and x["w"].shape == (50, 2, 6) and x["JT"].shape[1] == m.n_actuated
    assert len(WindowDataset([s], 50, kinds=["measured"])) == 0
    st = ds.stacked()
    assert st["q"].shape == (len(ds), 50, m.nq)


def test_load_sequences_cached_measured(data, kern, tmp_path):
    from symgait.datasets.cache import load_sequences
    m, k = kern("gait3d")
    G = "opensim/gait2354_subject01_walk1/"
    trial = dict(motion=str(data(G + "subject01_walk1_ik.mot")), forces=str(data(G + "subject01_walk1_grf.mot")),
                 height=1.803, mass=72.6)
    cache = SequenceCache(tmp_path)
    s1, = load_sequences([trial], m, k, cache=cache, cutoff=6.0)
    assert s1.label_kind == "measured" and len(list(cache.dir.glob("*.npz"))) == 1
    s2, = load_sequences([trial], m, k, cache=cache, cutoff=6.0)
    assert np.array_equal(s1.tau, s2.tau)
    # measured labels are not silently mixed with derived ones
    syn = synthetic_gait(m, n_sequences=1, seconds=1.0, kern=k)
    ds = WindowDataset([s1] + syn, length=20, kinds=["measured"])
    assert all(ds[i]["label_kind"] == "measured" for i in range(len(ds)))
