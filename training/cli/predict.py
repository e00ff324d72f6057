"""``symgait predict MOTION --mass M [--height H] [--checkpoint CKPT] --out CSV|MOT``:
forces, moments and joint torques of a motion file with a trained model (:mod:`training.predict`):
a CSV and its units (``.json``), or with ``--out X.mot`` OpenSim's files (GRF ``.mot``,
ExternalLoads ``.xml``, joint torques ``X_id.sto``)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

from symgait.cli.arguments import add_motion, add_subject, motion_argument
from symgait.atomic import check_output_file, write_text
from symgait.constants import KINEMATICS_CUTOFF_HZ

def add_cli(subparsers):
    p = subparsers.add_parser("predict", help="GRF/M and joint torques of a motion file (CSV + plot)",
                              description=__doc__)
    add_motion(p, "predict")
    p.add_argument("--checkpoint", default=None, help="checkpoint file written by training (default: the "
                   "model shipped with symgait, docs/model-card.md)")
    add_subject(p, height_help="subject height (m; default 1.75 with a warning)")
    p.add_argument("--skeleton", help=".asf for an .amc motion (default: the .asf beside it)")
    p.add_argument("--osim", help="OpenSim model (.osim) whose MarkerSet maps the markers (default: "
                   "the built-in marker set that matches the labels)")
    p.add_argument("--activity", choices=sorted(KINEMATICS_CUTOFF_HZ), default="walking",
                   help="what the trial shows; sets the low-pass cut-off of the joint angles as the training "
                   "data's (" + ", ".join(f"{k} {v:g} Hz" for k, v in sorted(KINEMATICS_CUTOFF_HZ.items())) +
                   "; default walking)")
    p.add_argument("--rate", type=float, default=None,
                   help="resample the processed motion to this frame rate (Hz) before predicting "
                   "(default: the rate the checkpoint was trained at when it records one)")
    p.add_argument("--forces", help="OpenSim GRF .mot of the trial: the prediction is scored against it "
                   "(a C3D file's own force plates are used without it)")
    p.add_argument("--external-loads", help="OpenSim ExternalLoads .xml naming the feet of --forces "
                   "(default: one beside it, else plates are assigned to feet by proximity)")
    p.add_argument("--out", required=True, help="output: CSV (+ .json of units), or .mot/.sto: OpenSim "
                   "GRF .mot + ExternalLoads .xml + joint torques <stem>_id.sto")
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

    from ..checkpoint import load, shipped_checkpoint  # torch: only when the command runs
    from ..evaluate import contact_origins
    from ..plots import plot_grf
    from ..predict import PredictError, predict_motion, write_prediction
    from ..provenance import file_seen
    a.motion = motion_argument(a)
    ck = Path(a.checkpoint) if a.checkpoint else shipped_checkpoint()
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
    hit = file_seen(bundle.seen, a.motion)
    if hit is not None:
        print(f"WARNING: {a.motion} is the trial {hit['trial']!r} of subject {hit['subject']!r}, which this model "
              f"{hit['role']} on: its predictions here are in-sample, not a test on a new person", file=sys.stderr)
    elif bundle.seen is None:
        print("warning: this checkpoint does not record the subjects it trained on; it cannot be checked "
              "whether this trial is new to it", file=sys.stderr)
    try:
        seq, pred, notes, plates = predict_motion(bundle, a.motion, mass=a.mass, height=height,
                                                  skeleton=a.skeleton, rate=a.rate or _trained_rate(bundle),
                                                  osim=a.osim, forces=a.forces, external_loads=a.external_loads,
                                                  cutoff=KINEMATICS_CUTOFF_HZ[a.activity])
    except ValueError as e:  # the data pipeline's messages (marker sets, walking direction, ...)
        if isinstance(e, SymgaitError):
            raise
        raise PredictError(str(e)) from None
    for n in notes:
        print(f"  {n}")
    origins = contact_origins(symgait.kernels(bundle.model), seq)
    written = write_prediction(a.out, bundle, seq, pred, origins,
                               meta=f"{Path(a.motion).name}, {bundle.cfg.model}/{bundle.cfg.variant}, "
                               f"{a.mass:g} kg, {height:g} m")
    print(f"wrote {written[0]} ({len(seq)} frames, {len(seq.contacts)} contacts, {len(seq.actuated)} joint torques)")
    for p in written[1:]:
        print(f"wrote {p}")
    plot = a.plot or str(Path(a.out).with_suffix(".png"))
    if plot.lower() != "none":
        plot_grf(plot, seq, {bundle.cfg.variant: pred["w"]},
                 title=f"{Path(a.motion).name}: predicted vertical GRF ({bundle.cfg.variant})")
        print(f"wrote {plot}")
    if plates is not None:
        _score(a, ck, seq, pred, plates, bundle)
    return 0


def _score(a, ck, seq, pred, plates, bundle) -> None:
    """The prediction against the trial's plates: printed, ``<out>.score.json``, ``<out>.score.png``."""
    import json

    from ..scoring import plot_score, score_forces, score_table
    score = score_forces(pred["w"], plates.sequence.w, seq.mass, seq.contacts, plates.covered)
    score.update(motion=str(a.motion), checkpoint=str(ck), variant=bundle.cfg.variant,
                 units={"rmse_n_per_kg": "N/kg", "rmse_bw_percent": "% body weight", "r": "1",
                        "peak_error_n_per_kg": "N/kg", "peak_error_bw_percent": "% body weight"})
    print(score_table(score))
    out = Path(a.out)
    js = out.with_name(out.stem + ".score.json")
    write_text(js, json.dumps(score, indent=1))
    png = plot_score(out.with_name(out.stem + ".score.png"), seq.time, pred["w"], plates.sequence.w, seq.mass,
                     seq.contacts, plates.covered,
                     title=f"{Path(a.motion).name}: predicted ({bundle.cfg.variant}) vs force plates")
    print(f"wrote {js}, {png}")
