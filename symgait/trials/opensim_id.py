"""Validation against OpenSim's inverse dynamics.

:func:`inverse_dynamics_from_coordinates` reproduces OpenSim's InverseDynamicsTool on a symgait
model: coordinates from an IK ``.mot`` (degrees → radians for rotations), OpenSim's coordinate
filter and spline derivatives (:func:`symgait.signals.kinematics.opensim_coordinate_filter`), external
loads from the ExternalLoads ``.xml`` (interpolated at the coordinate times, as OpenSim's
force splines are), moments transported to the calcn origins at the model's pose, then
``kernels.inverse_dynamics``.  Generalized forces are reported under OpenSim's coordinate names
(for converted models with prescribed knee translations, reduced to the knee angle's
generalized force, see :mod:`symgait.model.from_osim`).

:func:`inverse_dynamics_osim` does the same on a user's own OpenSim model, converted as it is
(:func:`symgait.trials.osim_model.build_osim_model`): what ``symgait id IK.mot --model
subject.osim`` runs.

:func:`compare` gives per-coordinate RMSE against a reference ``.sto`` and the RMSE in % of the
reference's range; :func:`run_subject01` runs the four comparisons of ``docs/validation.md``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from ..model.coordinates import rotational_coordinates

from ..errors import InputError
from ..io import DataFormatError, read_external_loads, read_mot, read_sto
from ..forces.contacts import reactions_from_external_loads
from ..signals.kinematics import filtered_kinematics
import symgait
from .osim_model import build_osim_model

__all__ = ["IDResult", "inverse_dynamics_from_coordinates", "inverse_dynamics_osim", "OsimID",
           "find_external_loads", "compare", "Row", "run_subject01", "SAGITTAL"]

SAGITTAL = ["hip_flexion_r", "knee_angle_r", "ankle_angle_r", "hip_flexion_l", "knee_angle_l",
            "ankle_angle_l"]


@dataclass
class IDResult:
    time: np.ndarray
    tau: Dict[str, np.ndarray]          # generalized force per (OpenSim) coordinate
    q: np.ndarray
    qd: np.ndarray
    qdd: np.ndarray
    w: np.ndarray
    residual: np.ndarray                # root residual (T, 6) world force, moment about pelvis origin
    notes: List[str] = field(default_factory=list)


def inverse_dynamics_from_coordinates(model, kern, p, coordinates_file, external_loads_xml,
                                      *, datafile=None, cutoff: float = 6.0,
                                      method: str = "opensim", converted=None,
                                      time_range=None) -> IDResult:
    """Inverse dynamics of an OpenSim IK result on a symgait model (see module docstring).

    ``converted``: the :class:`~symgait.model.from_osim.ConvertedModel` when ``model`` was
    converted from an ``.osim`` (drives the prescribed knee translations).  Coordinates of the
    model that the file lacks are held at 0.  ``external_loads_xml`` None: no external loads
    (the root residual then carries the whole ground reaction, as in OpenSim without them).
    """
    table = read_mot(coordinates_file)
    if time_range is not None:
        table = table.select(*time_range)
    rot = set(rotational_coordinates(model))
    if converted is not None:
        rot |= set(converted.rotational)
    names = [n for n in table.names if n in model.coordinates or
             (converted is not None and n in converted.osim_coordinates)]
    table = table.to_radians([n for n in names if n in rot])
    qi = table.columns(names)
    q_i, qd_i, qdd_i = filtered_kinematics(qi, t=table.time, cutoff=cutoff, method=method)
    if converted is not None:
        q, qd, qdd = converted.expand(model, q_i, qd_i, qdd_i, names)
    else:
        idx = {c: i for i, c in enumerate(model.coordinates)}
        q, qd, qdd = (np.zeros((table.time.size, model.nq)) for _ in range(3))
        for j, n in enumerate(names):
            q[:, idx[n]], qd[:, idx[n]], qdd[:, idx[n]] = q_i[:, j], qd_i[:, j], qdd_i[:, j]
    if external_loads_xml is not None:
        reac = reactions_from_external_loads(model, external_loads_xml, datafile=datafile,
                                             t=table.time)
        w = reac.wrenches(kern.contact_points(q, p))
    else:
        w = np.zeros((table.time.size, model.n_contacts, 6))
    tau_full = kern.inverse_dynamics(q, qd, qdd, w, p)
    res = kern.root_residual(q, qd, qdd, w, p)
    if converted is not None:
        tau = converted.reduce(model, tau_full, q)
    else:
        tau = {c: tau_full[:, i] for i, c in enumerate(model.coordinates)}
    missing = [c for c in model.coordinates if c not in names and
               (converted is None or c not in {x.coordinate for x in converted.couplings})]
    notes = [f"coordinates not in {Path(coordinates_file).name} (held at 0): {missing}"] if missing else []
    return IDResult(time=table.time.copy(), tau=tau, q=q, qd=qd, qdd=qdd, w=w, residual=res,
                    notes=notes)


def find_external_loads(forces) -> Optional[Path]:
    """The ExternalLoads ``.xml`` beside a GRF ``.mot`` whose ``<datafile>`` names it (or None)."""
    forces = Path(forces)
    for cand in sorted(forces.parent.glob("*.xml")):
        try:
            el = read_external_loads(cand)
        except (DataFormatError, OSError):
            continue
        names = {Path(n).name for n in [el.datafile] + [f.data_source_name for f in el] if n}
        if forces.name in names:
            return cand
    return None


@dataclass
class OsimID:
    """:func:`inverse_dynamics_osim`'s result: the ID, the converted model and its kernels, which
    coordinates rotate (OpenSim's), the files used and notes."""
    result: IDResult
    converted: object
    model: object
    kernels: object
    coordinates: List[str]            # OpenSim's coordinates in the output, model order
    rotational: List[str]
    external_loads: Optional[Path]
    forces: Optional[Path]
    notes: List[str] = field(default_factory=list)


def inverse_dynamics_osim(osim_path, coordinates_file, *, forces=None, external_loads=None,
                          cutoff: float = 6.0, method: str = "opensim", cache_dir=None,
                          log=None) -> OsimID:
    """OpenSim's InverseDynamicsTool on the user's model ``osim_path``, reproduced.

    The model is converted as it is (bodies, masses, inertias, joints; knee translations driven
    by SimmSplines of the knee angle reproduced exactly; see :mod:`symgait.model.from_osim`),
    its kernels generated once into the user cache.  ``coordinates_file``: an OpenSim
    coordinates ``.mot``/``.sto`` (an IK result; no IK is run), filtered at ``cutoff`` Hz with
    OpenSim's recipe (``method="opensim"``: padding, 3rd-order IIR forward and backward,
    quintic spline derivatives) or ``"butter"``.  External loads as the ExternalLoads ``.xml``
    (``external_loads``) says, reading ``forces`` (a GRF ``.mot``) instead of its ``<datafile>``
    where given; with ``forces`` alone, the ``.xml`` beside it that names it.  The model's
    contacts are the bodies the XML applies forces to (the calcanei by default), so each force
    acts on its own body.  Without either: no external loads.
    """
    osim_path = Path(osim_path)
    coordinates_file = Path(coordinates_file)
    for what, f in (("model", osim_path), ("coordinates file", coordinates_file),
                    ("forces file", forces), ("ExternalLoads file", external_loads)):
        if f is not None and not Path(f).exists():
            raise InputError(f"{what} {f} not found")
    if coordinates_file.suffix.lower() not in (".mot", ".sto"):
        raise InputError(f"{coordinates_file.name}: with an OpenSim model (.osim) the motion must be "
                         "OpenSim coordinates (.mot/.sto, e.g. an IK result); run OpenSim's IK first, "
                         "or use a built-in model (--model gait3d) to fit markers")
    notes: List[str] = []
    xml = Path(external_loads) if external_loads is not None else None
    if xml is None and forces is not None:
        xml = find_external_loads(forces)
        if xml is None:
            raise InputError(f"{Path(forces).name}: no ExternalLoads .xml beside it names it; give "
                             "--external-loads GRF.xml (which body each force acts on, as OpenSim "
                             "needs it)")
        notes.append(f"external loads: {xml.name} (found beside {Path(forces).name})")
    contacts = None
    if xml is not None:
        el = read_external_loads(xml)
        bodies = list(dict.fromkeys(f.applied_to_body for f in el if not f.disabled))
        if set(bodies) - {"calcn_r", "calcn_l"}:
            contacts = {b: b for b in bodies}
        if forces is None:
            forces = el.datafile_path
    conv, model, kern = build_osim_model(osim_path, cache_dir=cache_dir, log=log, contacts=contacts)
    notes += conv.notes
    res = inverse_dynamics_from_coordinates(model, kern, model.parameters(), coordinates_file, xml,
                                            datafile=forces, cutoff=cutoff, method=method,
                                            converted=conv)
    notes += res.notes
    table_names = set(read_mot(coordinates_file).names)
    extra = sorted(table_names - set(conv.osim_coordinates))
    if extra:
        notes.append(f"columns of {coordinates_file.name} that are no coordinate of "
                     f"{osim_path.name} (ignored): {extra}")
    coords = [c for c in conv.osim_coordinates if c in res.tau]
    return OsimID(result=res, converted=conv, model=model, kernels=kern, coordinates=coords,
                  rotational=[c for c in coords if c in set(conv.rotational)], external_loads=xml,
                  forces=None if forces is None else Path(forces), notes=notes)


@dataclass
class Row:
    coordinate: str
    rmse: float          # N·m or N
    range: float         # max - min of the reference
    percent: float       # 100 * rmse / range
    max_abs: float       # max |difference|
    unit: str


def compare(result: IDResult, reference_sto, coordinates: Optional[Sequence[str]] = None,
            t_tol: float = 1e-4) -> List[Row]:
    """RMSE of ``result`` against an OpenSim ID ``.sto`` (columns ``<coord>_moment|_force``), on
    the common time samples."""
    ref = read_sto(reference_sto)
    rows = []
    coords = list(coordinates) if coordinates is not None else list(result.tau)
    # match times
    ti = []
    for k, t in enumerate(result.time):
        j = int(np.argmin(np.abs(ref.time - t)))
        if abs(ref.time[j] - t) < t_tol:
            ti.append((k, j))
    if not ti:
        raise ValueError(f"no common times between the result and {reference_sto}")
    a = np.array([k for k, _ in ti])
    b = np.array([j for _, j in ti])
    for c in coords:
        col = f"{c}_moment" if f"{c}_moment" in ref.names else f"{c}_force"
        if col not in ref.names or c not in result.tau:
            continue
        r = ref.column(col)[b]
        x = np.asarray(result.tau[c])[a]
        d = x - r
        rng = float(r.max() - r.min())
        rmse = float(np.sqrt(np.mean(d ** 2)))
        rows.append(Row(c, rmse, rng, 100.0 * rmse / rng if rng > 0 else float("nan"),
                        float(np.abs(d).max()), "N" if col.endswith("_force") else "N·m"))
    return rows


def format_rows(rows: Sequence[Row]) -> str:
    out = ["| coordinate | RMSE | range | RMSE / range | max abs. diff. |", "|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r.coordinate} | {r.rmse:.2f} {r.unit} | {r.range:.1f} {r.unit} | "
                   f"{r.percent:.1f} % | {r.max_abs:.1f} {r.unit} |")
    return "\n".join(out)


def run_subject01(data_dir, which: str, *, cache_dir=None, log=None):
    """One of the four comparisons on OpenSim's subject01 walking trial.

    ``which``: ``"gait2354-osim"`` (model converted from ``subject01_simbody.osim``),
    ``"gait2354-gait3d"`` (built-in gait3d, de Leva, 72.6 kg / 1.80 m), ``"gait10dof-osim"``
    (converted ``gait10dof_subject01_walk/subject01.osim``), ``"gait10dof-planar"`` (built-in
    planar).  Returns ``(result, rows)``.
    """

    d = Path(data_dir) / "opensim"
    g2354 = d / "gait2354_subject01_walk1"
    g10 = d / "gait10dof_subject01_walk"
    grf = g2354 / "subject01_walk1_grf.mot"
    if which.startswith("gait2354"):
        ik, xml, sto = g2354 / "subject01_walk1_ik.mot", g2354 / "subject01_walk1_grf.xml", \
            g2354 / "inverse_dynamics.sto"
        osim = g2354 / "subject01_simbody.osim"
    elif which.startswith("gait10dof"):
        ik, xml, sto = g10 / "subject01_walk_IK.mot", g10 / "subject01_walk_grf.xml", \
            g10 / "subject01_walk_ID.sto"
        osim = g10 / "subject01.osim"
    else:
        raise ValueError(which)
    conv = None
    if which.endswith("-osim"):
        conv, model, kern = build_osim_model(osim, cache_dir=cache_dir, log=log,
                                             name=f"subject01_{which.split('-')[0]}", height=1.803)
        p = model.parameters()
    else:
        model = symgait.load_model("gait3d" if which.endswith("gait3d") else "planar")
        kern = symgait.kernels(model)
        p = model.parameters(height=1.80, mass=72.6)
    res = inverse_dynamics_from_coordinates(model, kern, p, ik, xml, datafile=grf, converted=conv)
    rows = compare(res, sto)
    return res, rows

