"""Discovery: every trial of the shared data folder with its subject, activity, population
(``"adults"``, or ``"children"``: results are reported apart), the subject's age where the
source states it, files and options (``markerset``: a scaled OpenSim model or the subject's
static trial; ``time_range``: the part of a long trial processed).

The population is the age's where the source states one (under :data:`ADULT_AGE` years:
children; Fukuchi et al. 2017's participantInfo.csv, Schreiber & Moissenet 2019's
anthropometrics.csv), else the source's: biomechZoo's sample study is of children (its files
state no age), every other source of adults."""
from __future__ import annotations

from pathlib import Path
import csv
import re
from typing import Dict, List
import symgait
from .references import gait3d_parameters_from_osim
from ..markers.fit import subject_osim
from ..io import read_c3d_parameters
from ..errors import SymgaitError


# what discovery assumes where a source does not say
DEFAULT_MODEL = "gait3d"
HEIGHT_ASSUMED = 1.75
MASS_FROM_PLATES = "estimated from the plates (least squares of the motion-implied vertical force)"
ADULT_AGE = 18      # years: a younger subject is reported with the children


def _trial(name, subject, source, motion, *, forces=None, external_loads=None, mass=None,
           height=None, activity="walking", speed=None, mass_from="", height_from="",
           refuse=None, markerset=None, kind="force", population=None, age=None,
           time_range=None) -> dict:
    if population is None:
        population = "children" if age is not None and age < ADULT_AGE else "adults"
    return dict(name=name, subject=subject, source=source, motion=str(motion), age=age,
                forces=None if forces is None else str(forces),
                external_loads=None if external_loads is None else str(external_loads),
                mass=mass, height=height, activity=activity, speed=speed, mass_from=mass_from,
                height_from=height_from, refuse=refuse,
                markerset=None if markerset is None else str(markerset), kind=kind,
                population=population, time_range=None if time_range is None else list(time_range))


def _opensim(d: Path) -> List[dict]:
    o = d / "opensim"
    g = o / "gait2354_subject01_walk1"
    h = o / "hamner_subject02_running"
    return [
        _trial("subject01_walk1", "opensim:subject01", "opensim", g / "subject01_walk1.trc",
               forces=g / "subject01_walk1_grf.mot", external_loads=g / "subject01_walk1_grf.xml",
               mass=72.6, height=1.803, activity="walking (treadmill)",
               mass_from="subject01_Setup_Scale.xml", height_from="subject01_Setup_Scale.xml"),
        _trial("gait10dof_subject01_walk", "opensim:subject01", "opensim",
               o / "gait10dof_subject01_walk" / "subject01_walk_IK.mot",
               refuse="the same trial as opensim/gait2354_subject01_walk1 (same markers and plates)"),
        # Hamner's subject02 (README: probably the same person as hamner2013 subject02)
        _trial("subject02_running", "hamner2013:subject02", "opensim", h / "subject02_running.trc",
               forces=h / "subject02_running_grf.mot", external_loads=h / "External_Loads.xml",
               mass=65.9, height=1.83, activity="running (treadmill)",
               mass_from="Setup_Scale.xml", height_from="Setup_Scale.xml"),
    ]


def _c3d_org(d: Path) -> List[dict]:
    c = d / "c3d_org"
    return [
        _trial("Walk1", "c3d_org:Walk1", "c3d_org", c / "Walk1.c3d", mass=88.0,
               height=HEIGHT_ASSUMED, mass_from="mean plate force / g (docs/validation.md)",
               height_from="assumed"),
        _trial("gait-raw", "c3d_org:gait-raw", "c3d_org", c / "gait-raw.c3d", mass=62.0,
               height=HEIGHT_ASSUMED, mass_from="mean plate force / g (docs/validation.md)",
               height_from="assumed"),
        _trial("gait-pig", "c3d_org:gait-raw", "c3d_org", c / "gait-pig.c3d",
               refuse="the same trial as c3d_org/gait-raw.c3d after Plug-in-Gait processing"),
        _trial("Eb015pr", "c3d_org:Eb015pr", "c3d_org", c / "Eb015pr.c3d",
               mass_from=MASS_FROM_PLATES, height=HEIGHT_ASSUMED, height_from="assumed"),
    ]


def _cmu(d: Path) -> List[dict]:
    c = d / "cmu" / "subject08"
    return [_trial(f"08_{i:02d}", "cmu:08", "cmu", c / f"08_{i:02d}.amc", mass=65.0, height=1.65,
                   mass_from="assumed", height_from="assumed", kind="motion")
            for i in range(1, 12) if (c / f"08_{i:02d}.amc").exists()]


def _deepmimic(d: Path) -> List[dict]:
    c = d / "deepmimic"
    return [_trial(p.stem, "deepmimic", "deepmimic", p, refuse="retargeted, looped and smoothed "
                   "animation clips (smoke tests only), not measured motion")
            for p in sorted(c.glob("humanoid3d_*.txt"))]


def _hamner(d: Path) -> List[dict]:
    root = d / "hamner2013_running"
    out = []
    model = None
    for s in sorted(p.name for p in root.glob("subject*") if p.is_dir()):
        osim = root / s / "model" / f"{s}_adjusted_scaled.osim"
        mass = height = None
        if osim.exists():
            model = model or symgait.load_model(DEFAULT_MODEL)
            _, sc = gait3d_parameters_from_osim(model, osim)
            mass, height = round(sc.mass, 3), round(sc.height, 3)
        for run, speed in (("Run_3", 3.0), ("Run_5", 5.0)):
            e = root / s / "expData"
            out.append(_trial(f"{s}_{run}", f"hamner2013:{s}", "hamner2013_running", e / f"{run}.trc",
                              forces=e / f"{run}_grf.mot", external_loads=e / f"{run}_grf.xml",
                              mass=mass, height=height, activity="running (treadmill)", speed=speed,
                              mass_from="scaled .osim (total mass)",
                              height_from="estimated from the scaled .osim's leg length",
                              refuse=None if mass else f"{osim} not found (no body mass)"))
    return out


def _schreiber(d: Path) -> List[dict]:
    root = d / "schreiber2019_walking"
    anth = {}
    if (root / "anthropometrics.csv").exists():
        with open(root / "anthropometrics.csv") as f:
            for r in csv.DictReader(f):
                anth[r["subjectID"]] = (float(r["mass"]), float(r["height"]), _age(r.get("age")))
    out = []
    for s in sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        mass, height, age = anth.get(s, (None, None, None))
        for c in sorted((root / s / "dynamic").glob("*.c3d")):
            cond = c.stem.split("_")[1] if "_" in c.stem else ""
            out.append(_trial(c.stem, f"schreiber2019:{s}", "schreiber2019_walking", c, mass=mass,
                              height=height, activity="walking (overground)",
                              speed={"C4": "self-selected", "C5": "fast"}.get(cond), age=age,
                              mass_from="anthropometrics.csv", height_from="anthropometrics.csv",
                              refuse=None if mass else f"subject {s} not in anthropometrics.csv"))
        for c in sorted((root / s / "static").glob("*.c3d")):
            out.append(_trial(c.stem, f"schreiber2019:{s}", "schreiber2019_walking", c,
                              refuse="static standing trial"))
    return out


FUKUCHI_SECONDS = 10.0   # s of each 30 s treadmill run processed (the build's time; ~15 strides)


def _age(text) -> "float | None":
    """A table's age field in years (None where empty or not a number)."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _fukuchi(d: Path) -> List[dict]:
    """Fukuchi et al. 2017: treadmill running at 3.5 m/s, one plate under both feet; mass and
    height from participantInfo.csv; each runner's static trial calibrates the markers
    (:func:`symgait.markers.static.markerset_from_static`)."""
    root = d / "fukuchi2017_running"
    anth = {}
    if (root / "participantInfo.csv").exists():
        with open(root / "participantInfo.csv", newline="") as f:
            for r in csv.DictReader(f):
                anth.setdefault(int(r["Subject"]), (float(r["Mass"]), round(float(r["Height"]) / 100.0, 3),
                                                    _age(r.get("Age"))))
    out = []
    for s in sorted(p.name for p in root.glob("RBDS*") if p.is_dir()):
        num = int(re.sub(r"\D", "", s))
        mass, height, age = anth.get(num, (None, None, None))
        run, static = root / s / f"{s}runT35.c3d", root / s / f"{s}static.c3d"
        out.append(_trial(f"{s}runT35", f"fukuchi2017:{s}", "fukuchi2017_running", run, mass=mass,
                          height=height, activity="running (treadmill)", speed=3.5, age=age,
                          mass_from="participantInfo.csv", height_from="participantInfo.csv",
                          markerset=static if static.exists() else None,
                          time_range=(0.0, FUKUCHI_SECONDS),
                          refuse=None if mass else f"runner {num} not in participantInfo.csv"))
        if static.exists():
            out.append(_trial(f"{s}static", f"fukuchi2017:{s}", "fukuchi2017_running", static, age=age,
                              activity="standing (static)", refuse="static standing trial (calibrates the markers of the "
                                     "runner's treadmill trial)"))
    return out


def _biomechzoo(d: Path) -> List[dict]:
    """biomechZoo's sample study: children walking overground; mass and height from each file's
    PROCESSING parameters (Bodymass kg, Height mm)."""
    root = d / "biomechzoo_children"
    out = []
    for s in sorted(p.name for p in root.glob("HC*") if p.is_dir()):
        for c in sorted((root / s / "Straight").glob("*.c3d")):
            mass = height = None
            try:
                pr = read_c3d_parameters(c, "PROCESSING")
                mass = round(float(pr["Bodymass"]), 2)
                height = round(float(pr["Height"]) / 1000.0, 3)
            except (KeyError, TypeError, ValueError, SymgaitError):
                pass
            out.append(_trial(c.stem, f"biomechzoo:{s}", "biomechzoo_children", c, mass=mass,
                              height=height, activity="walking (overground)", population="children",
                              mass_from="C3D PROCESSING:Bodymass", height_from="C3D PROCESSING:Height",
                              refuse=None if mass and height else
                              f"{c.name}: no PROCESSING:Bodymass/Height parameters"))
        for c in sorted((root / s / "Static").glob("*.c3d")):
            out.append(_trial(c.stem, f"biomechzoo:{s}", "biomechzoo_children", c,
                              activity="standing (static)", population="children",
                              refuse="static standing trial"))
    return out


_MOTION_EXT = (".trc", ".c3d")


def _manifest_rows(path: Path) -> List[List[str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("| ") and not line.startswith("| file") and not line.startswith("|---"):
            rows.append([c.strip() for c in line.strip().strip("|").split(" | ")])
    return rows


def _subject_key(text: str, motion: str) -> str:
    """A subject id from the MANIFEST's subject column; the file's own id where the column
    names nobody (unknown, unnamed, only a mass): such trials never share a subject."""
    t = re.sub(r"\(.*?\)", "", text.split(",")[0]).strip().strip('"')
    k = re.sub(r"[^A-Za-z0-9]+", "_", t).strip("_").lower()
    if not k or k in ("unknown", "unnamed") or re.fullmatch(r"\d+(_\d+)?_kg", k):
        return "file:" + motion
    return k


def _more(d: Path) -> List[dict]:
    root = d / "more"
    man = root / "MANIFEST.md"
    if not man.exists():
        return []
    out = []
    for r in _manifest_rows(man):
        if len(r) < 9:
            continue
        files = [f.strip() for f in r[0].split("<br>")]
        activity, subject = r[5], r[6]
        motion = next((f for f in files if f.lower().endswith(_MOTION_EXT)), None)
        if motion is None:
            continue
        forces = next((f for f in files if f.lower().endswith((".mot", ".sto"))
                       and not f.lower().endswith(("_ik.mot", "ik_solution.mot"))
                       and re.search(r"grf|force|ground", Path(f).name, re.I)), None)
        xml = next((f for f in files if f.lower().endswith(".xml")), None)
        m = re.search(r"(\d+(?:\.\d+)?)\s*kg", subject)
        h = re.search(r"(\d\.\d+)\s*m\b", subject)
        mass = float(m.group(1)) if m else None
        name = Path(motion).stem
        refuse = None
        if "static" in activity.lower():
            refuse = "static calibration trial"
        elif mass is None and forces is None and not motion.lower().endswith(".c3d"):
            refuse = "no body mass in the files or MANIFEST.md, and no forces to estimate it from"
        speed = re.search(r"(\d+(?:\.\d+)?)\s*m/s", activity)
        out.append(_trial(name, "more:" + _subject_key(subject, motion), "more/" + motion.split("/")[0],
                          root / motion, forces=None if forces is None else root / forces,
                          external_loads=None if xml is None else root / xml, mass=mass,
                          height=float(h.group(1)) if h else HEIGHT_ASSUMED,
                          activity=activity, speed=float(speed.group(1)) if speed else None,
                          mass_from="MANIFEST.md" if m else MASS_FROM_PLATES, refuse=refuse,
                          height_from="MANIFEST.md" if h else "assumed"))
    # unique names
    seen: Dict[str, int] = {}
    for t in out:
        k = t["name"]
        seen[k] = seen.get(k, 0) + 1
        if seen[k] > 1:
            t["name"] = f"{k}~{seen[k]}"
    return out


def discover(data_dir) -> List[dict]:
    """Every trial of the shared data folder (see the module docstring), as dicts.  A marker
    trial's ``markerset`` is the subject's scaled OpenSim model stored with it
    (:func:`symgait.markers.fit.subject_osim`), else None (the set is detected)."""
    d = Path(data_dir)
    out = []
    for f in (_opensim, _c3d_org, _cmu, _deepmimic, _hamner, _schreiber, _fukuchi, _biomechzoo, _more):
        out += f(d)
    for t in out:
        if t["refuse"] is None and not Path(t["motion"]).exists():
            t["refuse"] = f"file not found: {t['motion']}"
        if t["refuse"] is None and t["markerset"] is None and \
                t["motion"].lower().endswith(_MOTION_EXT):
            osim = subject_osim(t["motion"], root=d)
            t["markerset"] = None if osim is None else str(osim)
    return out


def activity_class(text: str) -> str:
    """"running" for an activity that says run, jog or sprint, else "walking"."""
    t = text.lower()
    return "running" if any(k in t for k in ("run", "jog", "sprint")) else "walking"
