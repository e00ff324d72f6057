"""``symgait id``: inverse dynamics of a trial.

    symgait id MOTION [--model MODEL] [--forces FILE] --mass M --height H --out CSV|STO
    symgait id IK.mot --model subject.osim [--forces GRF.mot] [--external-loads GRF.xml] --out STO

Built-in or YAML model: retarget (TRC / C3D / ASF-AMC; an OpenSim coordinates ``.mot`` is
mapped directly), low-pass (6 Hz default), inverse dynamics with the plate forces (``--forces``
OpenSim GRF ``.mot``, or the C3D's own plates); without forces the contact wrenches are derived
(root residual distributed to the feet, zero by construction).  The model is scaled to
``--mass``/``--height`` (required).

OpenSim model (``--model subject.osim``): the user's model is imported as it is (bodies, masses,
inertias, joints; the knee's spline-driven translations exactly; kernels generated once into
the user cache) and OpenSim's InverseDynamicsTool is reproduced
(:func:`symgait.trials.opensim_id.inverse_dynamics_osim`): the motion must be OpenSim
coordinates (an IK ``.mot``; no IK is run), filtered by OpenSim's recipe at ``--cutoff`` (the
default ``--filter`` here is ``opensim``), the external loads applied as the ExternalLoads
``.xml`` says (``--external-loads``, or the ``.xml`` beside ``--forces`` that names it).
``--mass``/``--height`` are refused: the model's own masses are used, unscaled.

Outputs, by the suffix of ``--out``:

* ``.sto``/``.mot``: OpenSim's InverseDynamicsTool layout (title ``Inverse Dynamics Generalized
  Forces``, ``inDegrees=no``): ``time``, then ``<coordinate>_moment`` (N·m) for rotational and
  ``<coordinate>_force`` (N) for translational coordinates; beside it ``<stem>_ik.mot``, the
  coordinates the inverse dynamics used (after the low-pass; degrees for rotations, metres for
  translations, ``inDegrees=yes``).  Both read by OpenSim (``opensim.Storage``).
* anything else: a CSV with one plain header line (``time`` and one column per coordinate, named
  like it; readable by ``pandas.read_csv`` and ``numpy.genfromtxt(names=True)``), in N·m for
  rotations and N for translations (``--per-kg``: N·m/kg and N/kg).

The root's columns are the residuals.  Beside the output, ``<out>.json`` (same stem) holds the
units of every column, the trial's summary (:data:`symgait.trials.pipeline.SUMMARY_FIELDS`:
marker set, mean IK RMS and worst marker, frames, plates used, root-residual force and moment RMS
per kg) and the processing notes.  Also writes a plot (``--plot``, default ``<out>.png``) and
optionally a stick figure of the retargeting (``--stick``).

``--reduce-residual`` (measured forces only) first changes the coordinates within the marker error
so that the motion agrees with the plates (:func:`symgait.trials.residual_reduction.reduce_residual`);
the output then holds that motion's moments, ``<out>.coordinates.csv`` its coordinates, and the JSON a
``residual_reduction`` entry: residual force and moment RMS per kg before and after, the model's
points' displacement, the largest coordinate changes, and the marker RMS (mm) with the measured
and the changed motion.

Register with :func:`add_cli` (``symgait.cli`` calls it for the ``symgait`` program).
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
from ..atomic import atomic_write, check_output_file, write_text
from .arguments import add_motion, motion_argument
from ..constants import STANDARD_GRAVITY

__all__ = ["add_cli", "run", "write_csv", "write_id_sto", "column_units", "write_summary",
           "plot_moments", "OPENSIM_SUFFIXES", "ID_TITLE"]

OPENSIM_SUFFIXES = (".sto", ".mot")
ID_TITLE = "Inverse Dynamics Generalized Forces"   # the title OpenSim's InverseDynamicsTool writes


def add_cli(subparsers):
    """Add the ``id`` sub-command to an ``argparse`` sub-parsers object."""
    p = subparsers.add_parser("id", help="inverse dynamics of a trial (TRC, C3D, ASF/AMC, OpenSim .mot)",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="gait3d", help="built-in model (planar, gait3d, fullbody), a "
                   ".yaml, or the subject's OpenSim model (.osim: used as it is, OpenSim's inverse "
                   "dynamics reproduced)")
    add_motion(p, "id")
    p.add_argument("--forces", help="OpenSim GRF .mot (an ExternalLoads .xml naming it is used if "
                   "found beside it); a C3D's own plates are used without this option")
    p.add_argument("--external-loads", help="ExternalLoads .xml for --forces (with an .osim model: "
                   "which body each force acts on; its <datafile> is read without --forces)")
    p.add_argument("--mass", type=float, help="subject mass (kg; built-in and YAML models)")
    p.add_argument("--height", type=float, help="subject height (m; built-in and YAML models)")
    p.add_argument("--out", required=True, help="output: .sto/.mot (OpenSim's ID layout, N·m and N, "
                   "plus <stem>_ik.mot) or CSV (N·m and N; --per-kg for per kg)")
    p.add_argument("--per-kg", action="store_true", help="CSV in N·m/kg and N/kg (OpenSim outputs "
                   "are always N·m and N)")
    p.add_argument("--plot", help="plot PNG (default: <out>.png; 'none' to skip)")
    p.add_argument("--stick", help="stick figure PNG of source vs fitted model")
    p.add_argument("--cutoff", type=float, default=6.0, help="low-pass cut-off of the coordinates "
                   "(Hz, default 6; 0 = none)")
    p.add_argument("--filter", choices=["butter", "opensim"], default=None,
                   help="butter: zero-phase Butterworth + finite differences; opensim: OpenSim "
                   "InverseDynamicsTool's IIR filter + quintic spline (default: opensim with an "
                   ".osim model, else butter)")
    p.add_argument("--markerset", help="built-in marker set (gait2354, helen_hayes, cmu, hamner, "
                   "isb) or a mapping file (YAML/JSON); default: detected from the labels")
    p.add_argument("--osim", help="OpenSim model (.osim) whose MarkerSet gives each marker's body "
                   "and offset (the lab's scaled model)")
    p.add_argument("--skeleton", help=".asf for an .amc motion (default: <subject>.asf beside it)")
    p.add_argument("--no-plates", action="store_true", help="ignore C3D force plates (derive wrenches)")
    p.add_argument("--crop", choices=["auto", "plates", "none"], default="auto",
                   help="with plates: keep only frames where every foot on the ground is on a "
                   "plate (auto: when more than 5 %% of the frames are not)")
    p.add_argument("--reduce-residual", action="store_true", help="change the coordinates within the "
                   "marker error so that the motion agrees with the measured forces before the "
                   "inverse dynamics (needs force plates or --forces)")
    p.add_argument("--generated", help="directory of the model's generated kernels")
    p.set_defaults(fn=run)
    return p


def column_units(coordinates, rotational, per_kg: bool = False) -> dict:
    """Unit of each output column: ``time`` s; N·m for rotational, N for translational
    coordinates (``/kg`` with ``per_kg``)."""
    rot = set(rotational)
    kg = "/kg" if per_kg else ""
    return dict(time="s", **{c: ("N·m" if c in rot else "N") + kg for c in coordinates})


def write_csv(path, time, coordinates, tau, mass=None):
    """CSV: one header line (``time`` + one column per coordinate), then one row per frame:
    generalized forces (N·m for rotations, N for translations), divided by ``mass`` (kg) when
    given (per kg)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    x = np.asarray(tau, dtype=np.float64)
    if mass is not None:
        x = x / mass
    with atomic_write(path, "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["time"] + list(coordinates))
        for t, row in zip(time, x):
            wr.writerow([f"{t:.6f}"] + [f"{v:.8g}" for v in row])
    return path


def write_id_sto(path, time, coordinates, tau, rotational):
    """Generalized forces in the layout of OpenSim's InverseDynamicsTool output:
    ``<coordinate>_moment`` (N·m) for rotational, ``<coordinate>_force`` (N) for translational
    coordinates (:func:`symgait.io.opensim_write.write_table`)."""
    from ..io.opensim_write import write_table
    rot = set(rotational)
    names = [f"{c}_moment" if c in rot else f"{c}_force" for c in coordinates]
    return write_table(path, time, names, tau, title=ID_TITLE, in_degrees=False)


def ik_path(out) -> Path:
    """``<out stem>_ik.mot`` beside an OpenSim output."""
    out = Path(out)
    return out.with_name(out.stem + "_ik.mot")


def write_summary(path, summary: dict, notes=()) -> Path:
    """JSON of a trial summary (:func:`symgait.trials.pipeline.trial_summary`) and its notes."""
    import json
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(dict(summary, notes=list(notes)), indent=1, ensure_ascii=False) + "\n")
    return path


def plot_moments(path, seq, title=""):
    """Sagittal hip/knee/ankle moments (N·m/kg) per side, the root residuals and the vertical
    contact forces."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    coords = list(seq.coordinates)
    t = seq.time
    tau = seq.tau / seq.mass
    fig, ax = plt.subplots(2, 2, figsize=(10, 6.5))
    for k, base in enumerate(("hip_flexion", "knee_angle", "ankle_angle")):
        for side, ls in (("r", "-"), ("l", "--")):
            c = f"{base}_{side}"
            if c in coords:
                ax[0, 0].plot(t, tau[:, coords.index(c)], ls, color=f"C{k}", label=c)
    ax[0, 0].set_ylabel("N·m/kg")
    ax[0, 0].set_title("sagittal joint moments")
    ax[0, 0].legend(fontsize=7, ncol=2)
    others = [c for c in seq.actuated if not any(c.startswith(b) for b in ("hip_flexion", "knee_angle", "ankle_angle"))]
    for j, c in enumerate(others):
        ax[0, 1].plot(t, tau[:, coords.index(c)], color=f"C{j % 10}", lw=1, label=c)
    ax[0, 1].set_title("other joint moments (N·m/kg)")
    if others:
        ax[0, 1].legend(fontsize=6, ncol=2)
    root = [c for c in coords if c not in seq.actuated]
    for j, c in enumerate(root):
        ax[1, 0].plot(t, tau[:, coords.index(c)], color=f"C{j}", label=c)
    ax[1, 0].set_title(f"root residuals (N/kg, N·m/kg) — labels {seq.label_kind}")
    ax[1, 0].legend(fontsize=7, ncol=2)
    for j, c in enumerate(seq.contacts):
        ax[1, 1].plot(t, seq.w[:, j, 1] / (seq.mass * STANDARD_GRAVITY), label=f"{c} vertical")
    ax[1, 1].set_title("vertical contact force (body weights)")
    ax[1, 1].legend(fontsize=7)
    for a in ax.ravel():
        a.set_xlabel("time (s)")
        a.grid(alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    with atomic_write(path) as f:  # the format from the name's suffix, as savefig(path) does
        fig.savefig(f, dpi=90, format=Path(path).suffix[1:].lower() or None)
    plt.close(fig)
    return path


def _reduced(kern, trial, out):
    """The trial's sequence with its motion changed to agree with its plates, and the JSON entry
    (module docstring); writes ``<out>.coordinates.csv``."""
    import dataclasses
    from ..errors import InputError
    from ..markers.ik import marker_rms
    from ..trials.residual_reduction import reduce_residual
    seq = trial.sequence
    if seq.label_kind != "measured":
        raise InputError("--reduce-residual needs measured forces (C3D plates or --forces); this "
                         f"trial's contact wrenches are {seq.label_kind}")
    fit = reduce_residual(kern, seq.q, seq.qd, seq.qdd, seq.w, seq.p, seq.rate, seq.mass)
    tau = kern.inverse_dynamics(fit.q, fit.qd, fit.qdd, fit.w, seq.p)
    new = dataclasses.replace(seq, q=fit.q, qd=fit.qd, qdd=fit.qdd, w=fit.w, tau=tau)
    entry = dict(residual_force_rms_per_kg=[round(fit.before[0], 4), round(fit.after[0], 4)],
                 residual_moment_rms_per_kg=[round(fit.before[1], 4), round(fit.after[1], 4)],
                 **fit.summary())
    ik = trial.ik
    if ik is not None:
        mk = [marker_rms(kern, ik.targets.A, ik.targets.positions, x, ik.p, positions_time=ik.time,
                         time=seq.time) for x in (seq.q, fit.q)]
        entry["marker_rms_mm"] = [round(1000 * v, 2) for v in mk]
    path = Path(out).with_suffix(".coordinates.csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, "w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(["time"] + list(seq.coordinates))
        for t, row in zip(seq.time, fit.q):
            wr.writerow([f"{t:.6f}"] + [f"{v:.8g}" for v in row])
    print(f"residual reduced: force {fit.before[0]:.3g} -> {fit.after[0]:.3g} N/kg, moment "
          f"{fit.before[1]:.3g} -> {fit.after[1]:.3g} N·m/kg; points moved {fit.point_rms_mm:.1f} mm RMS"
          + (f"; marker RMS {entry['marker_rms_mm'][0]:.1f} -> {entry['marker_rms_mm'][1]:.1f} mm"
             if "marker_rms_mm" in entry else "") + f"; wrote {path}")
    return new, entry


def _is_osim(model) -> bool:
    return str(model).lower().endswith(".osim")


def _write_outputs(a, time, coordinates, tau, rotational, mass, q, summary, notes):
    """The output (``.sto`` + ``_ik.mot``, or CSV) and the JSON beside it; returns the paths."""
    out = Path(a.out)
    tau = np.asarray(tau, dtype=np.float64)
    written = []
    if out.suffix.lower() in OPENSIM_SUFFIXES:
        from ..io.opensim_write import write_coordinates
        written.append(write_id_sto(out, time, coordinates, tau, rotational))
        written.append(write_coordinates(ik_path(out), time, coordinates, q, rotational))
        units = column_units([f"{c}_moment" if c in set(rotational) else f"{c}_force"
                              for c in coordinates], [f"{c}_moment" for c in rotational])
        fmt = "opensim"
    else:
        written.append(write_csv(out, time, coordinates, tau, mass if a.per_kg else None))
        units = column_units(coordinates, rotational, per_kg=a.per_kg)
        fmt = "csv"
    info = dict(output=out.name, format=fmt, units=units, mass_kg=round(float(mass), 4))
    written.append(write_summary(out.with_suffix(".json"), dict(info, **summary), notes))
    return written


def _run_osim(a) -> int:
    """``symgait id IK.mot --model subject.osim ...`` (module docstring)."""
    from types import SimpleNamespace

    from ..errors import InputError
    from ..trials.consistency import residual_rms
    from ..trials.opensim_id import inverse_dynamics_osim
    given = [o for o in ("mass", "height") if getattr(a, o) is not None]
    if given:
        raise InputError(f"--{' and --'.join(given)}: an OpenSim model ({Path(a.model).name}) is used "
                         "as it is, with its own masses and geometry (no scaling); leave them out, or "
                         "scale the model in OpenSim first")
    for opt in ("osim", "markerset", "skeleton", "stick"):
        if getattr(a, opt, None):
            raise InputError(f"--{opt} is for marker trials on a built-in model; with an .osim model "
                             "the motion is OpenSim coordinates (no IK is run)")
    if a.reduce_residual or a.no_plates or a.crop != "auto" or a.generated:
        raise InputError("--reduce-residual, --no-plates, --crop and --generated apply to built-in and "
                         "YAML models; with an .osim model OpenSim's inverse dynamics is reproduced as it is")
    method = a.filter or "opensim"
    osid = inverse_dynamics_osim(a.model, a.motion, forces=a.forces, external_loads=a.external_loads,
                                 cutoff=a.cutoff, method=method,
                                 log=lambda *m: print(*m, flush=True))
    res, model, conv = osid.result, osid.model, osid.converted
    coords = osid.coordinates
    tau = np.stack([res.tau[c] for c in coords], axis=1)
    idx = [model.coordinates.index(c) for c in coords]
    mass = float(conv.total_mass)
    f, m = residual_rms(res.residual, mass)
    summary = dict(model=str(a.model), motion=str(a.motion), frames=int(res.time.size),
                   external_loads=None if osid.external_loads is None else str(osid.external_loads),
                   forces=None if osid.forces is None else str(osid.forces),
                   filter=method, cutoff_hz=a.cutoff,
                   residual_force_rms_per_kg=round(f, 4), residual_moment_rms_per_kg=round(m, 4))
    for n in osid.notes:
        print(f"  {n}")
    for p in _write_outputs(a, res.time, coords, tau, osid.rotational, mass, res.q[:, idx], summary,
                            osid.notes):
        print(f"wrote {p}")
    print(f"{model.name}: {len(coords)} coordinates, {res.time.size} frames, {mass:.4g} kg; residual RMS "
          f"per kg: force {f:.3g} N/kg, moment {m:.3g} N·m/kg")
    plot = a.plot or str(Path(a.out).with_suffix(".png"))
    if plot.lower() != "none":
        seq = SimpleNamespace(coordinates=coords, time=res.time, tau=tau, mass=mass,
                              actuated=[c for c in coords if c in set(model.actuated)],
                              contacts=model.contacts, w=res.w,
                              label_kind="measured" if osid.external_loads else "none")
        plot_moments(plot, seq, title=f"{Path(a.motion).name} — {Path(a.model).name} ({mass:.4g} kg)")
        print(f"wrote {plot}")
    return 0


def run(a) -> int:
    check_output_file(a.out)
    import symgait
    from ..errors import InputError
    from ..markers.ik import stick_figure
    from ..model.coordinates import rotational_coordinates
    from ..trials.pipeline import process_trial, trial_summary

    a.motion = motion_argument(a)
    if a.per_kg and Path(a.out).suffix.lower() in OPENSIM_SUFFIXES:
        raise InputError("--per-kg is for CSV output; OpenSim's .sto/.mot hold N·m and N (give --out "
                         "FILE.csv, or leave --per-kg out)")
    if _is_osim(a.model):
        return _run_osim(a)
    if a.mass is None or a.height is None:
        raise InputError("--mass (kg) and --height (m) are required: they scale the built-in or YAML "
                         "model (your own OpenSim model, --model subject.osim, needs neither)")
    if a.osim and a.markerset:
        raise InputError("give --osim or --markerset, not both")

    model = symgait.load_model(a.model)
    kern = symgait.kernels(model, generated=getattr(a, "generated", None))
    trial = process_trial(model, kern, a.motion, height=a.height, mass=a.mass, forces=a.forces,
                          external_loads=a.external_loads, markerset=a.osim or a.markerset,
                          cutoff=a.cutoff, filter_method=a.filter or "butter", skeleton=a.skeleton,
                          use_plates=not a.no_plates, crop=a.crop)
    seq = trial.sequence
    summary = trial_summary(kern, trial)
    if getattr(a, "reduce_residual", False):
        seq, summary["residual_reduction"] = _reduced(kern, trial, a.out)
    for n in trial.notes:
        print(f"  {n}")
    root = [i for i, c in enumerate(seq.coordinates) if c not in seq.actuated]
    rr = np.sqrt(np.mean((seq.tau[:, root] / seq.mass) ** 2, axis=0))
    print(f"labels: {seq.label_kind}; residual RMS per kg: " +
          ", ".join(f"{seq.coordinates[i]} {v:.3g}" for i, v in zip(root, rr)))
    written = _write_outputs(a, seq.time, list(seq.coordinates), seq.tau, rotational_coordinates(model),
                             seq.mass, seq.q, summary, trial.notes)
    print(f"wrote {written[0]} ({len(seq)} frames x {len(seq.coordinates)} coordinates)")
    for p in written[1:]:
        print(f"wrote {p}")
    plot = a.plot or str(Path(a.out).with_suffix(".png"))
    if plot.lower() != "none":
        plot_moments(plot, seq, title=f"{Path(a.motion).name} — {model.name}, {a.mass:g} kg, "
                     f"{a.height:g} m")
        print(f"wrote {plot}")
    if a.stick and trial.ik is not None:
        stick_figure(model, kern, trial.ik, a.stick, title=f"{Path(a.motion).name}: source vs {model.name}")
        print(f"wrote {a.stick}")
    return 0


def main(argv=None) -> int:
    """Stand-alone entry point (``python -m symgait.cli.id ...``)."""
    import argparse
    ap = argparse.ArgumentParser(prog="symgait")
    sub = ap.add_subparsers(dest="cmd", required=True)
    add_cli(sub)
    a = ap.parse_args(argv)
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
