"""Motion-data readers and signal utilities.

Readers return numpy arrays in SI units (metres, N, N·m, seconds; angles as
the file states them, see each reader) and say which frame the data are in.
Corrupt or truncated files raise :class:`DataFormatError` (a ``ValueError``)
naming the file, the line/field and what was expected.

* OpenSim: :func:`read_mot`, :func:`read_sto`, :func:`read_trc`,
  :func:`read_external_loads`, :func:`read_osim` (+ :func:`evaluate` for the
  model's coordinate functions); writers in :mod:`symgait.io.opensim_write`
  (:func:`write_table`, :func:`write_coordinates`, :func:`write_grf_mot`,
  :func:`write_external_loads`).
* C3D (ezc3d): :func:`read_c3d`.
* CMU Acclaim: :func:`read_asf`, :func:`read_amc`, :func:`forward_kinematics`,
  :func:`asf_to_opensim`.
* BVH: :func:`read_bvh`, :func:`write_bvh`, :func:`bvh_forward_kinematics`.
* Marker gaps: :func:`fill_gaps`, :func:`fill_marker_gaps` (a :class:`GapReport` says
  what was filled and dropped); units: :func:`check_marker_units`.
* Signals: :func:`lowpass`, :func:`derivatives`, :func:`resample`.
* Ground reactions: :func:`cop_to_wrench`, :func:`wrench_to_cop`,
  :func:`transport_moment`.
"""

from .errors import DataFormatError
from .opensim import (
    ExternalForce,
    ExternalLoads,
    Markers,
    Table,
    read_external_loads,
    read_mot,
    read_sto,
    read_table,
    read_trc,
)
from .opensim_write import (GrfLoad, grf_columns, write_coordinates, write_external_loads,
                            write_grf_mot, write_table)
from .osim import Body, Coordinate, Joint, OsimModel, TransformAxis, read_osim
from .osim_functions import evaluate
from .units import check_marker_units, length_unit_scale
from .asf_amc import (
    Kinematics,
    Motion,
    Skeleton,
    asf_to_opensim,
    asf_to_opensim_matrix,
    forward_kinematics,
    read_amc,
    read_asf,
)
from .bvh import BVH, BVHJoint, bvh_forward_kinematics, read_bvh, write_bvh
from .c3d import read_c3d as _read_c3d
from .c3d import read_c3d_parameters


def read_c3d(path, *, resample_plates_to_points: bool = False, zero_baseline: bool = True,
             max_baseline: float = 100.0, cop_threshold: float = 20.0, antialias: bool = True,
             plates: bool = True, check_units: bool = True):
    """Read a C3D file (markers m, analogs, force plates N / m / N·m, lab frame).

    See :func:`symgait.io.c3d.read_c3d`; imported lazily so that ``symgait.io``
    works without ``ezc3d`` installed.
    """

    return _read_c3d(path, resample_plates_to_points=resample_plates_to_points,
                     zero_baseline=zero_baseline, max_baseline=max_baseline,
                     cop_threshold=cop_threshold, antialias=antialias, plates=plates,
                     check_units=check_units)


__all__ = [
    "DataFormatError",
    "Table", "Markers", "ExternalForce", "ExternalLoads",
    "read_mot", "read_sto", "read_table", "read_trc", "read_external_loads",
    "OsimModel", "Body", "Joint", "Coordinate", "TransformAxis", "read_osim", "evaluate",
    "read_c3d", "read_c3d_parameters",
    "Skeleton", "Motion", "Kinematics", "read_asf", "read_amc", "forward_kinematics",
    "asf_to_opensim", "asf_to_opensim_matrix",
    "BVH", "BVHJoint", "read_bvh", "write_bvh", "bvh_forward_kinematics",
    "check_marker_units", "length_unit_scale",
]
__all__ += ["write_table", "write_coordinates", "GrfLoad", "grf_columns", "write_grf_mot",
            "write_external_loads"]
