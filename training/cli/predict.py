"""``python -m training predict --checkpoint CKPT --motion FILE --mass M [--height H] --out CSV``:
forces, moments and joint torques of a motion file with a trained model (:mod:`training.predict`)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from symgait.atomic import check_output_file

def add_cli(subparsers):
    p = subparsers.add_parser("predict", help="GRF/M and joint torques of a motion file (CSV + plot)",
                              description=__doc__)
    p.add_argument("--checkpoint", required=True, help="checkpoint file written by training")
    p.add_argument("--motion", required=True, help=".trc, .c3d, .amc, .bvh or OpenSim .mot")
    p.add_argument("--mass", type=float, help="subject mass (kg; required)")
    p.add_argument("--height", type=float, default=None,
                   help="subject height (m; default 1.75 with a warning)")
    p.add_argument("--skeleton", help=".asf for an .amc motion (default: the .asf beside it)")
    p.add_argument("--osim", help="OpenSim model (.osim) whose MarkerSet maps the markers (default: "
                   "the built-in marker set that matches the labels)")
    p.add_argument("--rate", type=float, default=None,
                   help="resample the processed motion to this frame rate (Hz) before predicting "
                   "(default: the rate the checkpoint was trained at when it records one)")
    p.add_argument("--out", required=True, help="output CSV")
    p.add_argument("--plot", help="plot PNG (default <out>.png; 'none' to skip)")
    p.set_defaults(fn=_run)
    return p


def _trained_rate(bundle) -> Optional[float]:
    for obj in (bundle, getattr(bundle, "cfg", None), getattr(getattr(bundle, "cfg", None), "data", None)):
        r = getattr(obj, "rate", None)
        if isinstance(r, (int, float)) and r > 0:
            return float(r)
    return None


def _run(a) -> int:
    check_output_file(a.out)
    import numpy as np

    import symgait
    from symgait.errors import SymgaitError

    from ..checkpoint import load  # torch: only when the command runs
    from ..evaluate import contact_origins
    from ..plots import plot_grf
    from ..predict import PredictError, predict_motion, write_prediction_csv
    ck = Path(a.checkpoint)
    if not ck.exists():
        raise PredictError(f"checkpoint {ck} not found")
    if not Path(a.motion).exists():
        raise PredictError(f"motion file {a.motion} not found")
    if a.mass is None:
        raise PredictError("--mass (kg) is required: the subject's body mass scales the model and the forces")
    if a.rate is not None and not (np.isfinite(a.rate) and a.rate > 0):
        raise PredictError(f"--rate {a.rate:g}: give a positive frame rate in Hz (e.g. 60), or leave it out "
                           f"for the checkpoint's training rate")
    height = a.height
    if height is None:
        height = 1.75
        print("warning: no --height given; assuming 1.75 m")
    bundle = load(ck, map_location="cpu")
    try:
        seq, pred, notes = predict_motion(bundle, a.motion, mass=a.mass, height=height,
                                          skeleton=a.skeleton, rate=a.rate or _trained_rate(bundle),
                                          osim=a.osim)
    except ValueError as e:  # the data pipeline's messages (marker sets, walking direction, ...)
        if isinstance(e, SymgaitError):
            raise
        raise PredictError(str(e)) from None
    for n in notes:
        print(f"  {n}")
    origins = contact_origins(symgait.kernels(bundle.model), seq)
    out = write_prediction_csv(a.out, seq.time, pred["w"], pred["JT"], seq.contacts, seq.actuated,
                               origins=origins, meta=f"{Path(a.motion).name}, {bundle.cfg.model}/{bundle.cfg.variant}, "
                               f"{a.mass:g} kg, {height:g} m")
    print(f"wrote {out} ({len(seq)} frames, {len(seq.contacts)} contacts, {len(seq.actuated)} joint torques)")
    plot = a.plot or str(Path(a.out).with_suffix(".png"))
    if plot.lower() != "none":
        plot_grf(plot, seq, {bundle.cfg.variant: pred["w"]},
                 title=f"{Path(a.motion).name}: predicted vertical GRF ({bundle.cfg.variant})")
        print(f"wrote {plot}")
    return 0
