"""Mirroring augmentation of training windows: the mirrored window obeys the equations of motion."""
from __future__ import annotations

import numpy as np

from training.trainer import mirrored_window, window_batch


def test_mirrored_window_torques_are_inverse_dynamics_of_the_mirrored_motion(planar, seqs):
    from symgait.trials.augment import mirror_map
    m, k = planar
    mir = mirror_map(m)
    d = seqs[0].window(10, 30)
    md = mirrored_window(d, mir, m.actuated_indices)
    act = m.actuated_indices
    tau = k.inverse_dynamics(md["q"], md["qd"], md["qdd"], md["w"], md["p"])[:, act]
    np.testing.assert_allclose(md["JT"], tau, atol=1e-6 * np.abs(tau).max())
    assert not np.allclose(md["JT"], d["JT"])            # the sides were exchanged
    np.testing.assert_array_equal(md["contact"], d["contact"][:, ::-1])
    b = window_batch(seqs[:1], 20, 10, mirror=mir)
    b0 = window_batch(seqs[:1], 20, 10)
    assert b["q"].shape[0] == 2 * b0["q"].shape[0]
    np.testing.assert_array_equal(b["q"][0].numpy(), b0["q"][0].numpy())
