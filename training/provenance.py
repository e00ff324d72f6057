"""What a trained model saw: the subjects and trials it trained and validated on, recorded in its
checkpoint, so that evaluation never reports in-sample errors as if they were on new people.

A trial is identified by its subject (a dataset's subject id; the trial's name where none is known),
its name, its source file and the SHA-256 of that file (of the motion arrays where the source is not
a file, e.g. the synthetic set).  A sequence is *seen* by a model when its subject, its file's hash or
its motion's hash is among those the model trained or validated on.
"""
from __future__ import annotations

import hashlib
import os
from typing import Dict, Iterable, List, Optional

import numpy as np

from symgait.atomic import file_sha256 as atomic_file_sha256

ROLES = ("trained", "validated")


def file_sha256(path) -> Optional[str]:
    """SHA-256 of a file's bytes (None where ``path`` is not a readable file: a synthetic source)."""
    try:
        return atomic_file_sha256(path) if os.path.isfile(path) else None
    except OSError:
        return None


def motion_sha256(seq) -> str:
    """SHA-256 of a sequence's coordinates (float64 bytes): the trial's identity where no file is."""
    return hashlib.sha256(np.ascontiguousarray(np.asarray(seq.q, np.float64)).tobytes()).hexdigest()


def trial_identity(seq) -> Dict[str, Optional[str]]:
    return {"subject": seq.subject or seq.name, "trial": seq.name, "source": seq.source,
            "file_sha256": file_sha256(seq.source), "motion_sha256": motion_sha256(seq)}


def record(trained: Iterable, validated: Iterable = ()) -> Dict[str, List[dict]]:
    """``{"trained": [identity...], "validated": [identity...]}`` of the sequences a model learnt from."""
    return {"trained": [trial_identity(s) for s in trained], "validated": [trial_identity(s) for s in validated]}


def seen_role(seen: Optional[dict], seq) -> Optional[str]:
    """``"trained"`` or ``"validated"`` when the model saw ``seq``'s subject or its data, else None."""
    if not seen:
        return None
    ident = trial_identity(seq)
    for role in ROLES:
        for r in seen.get(role, ()):
            if (r["subject"] == ident["subject"] or r["motion_sha256"] == ident["motion_sha256"]
                    or (ident["file_sha256"] and r["file_sha256"] == ident["file_sha256"])):
                return role
    return None


def file_seen(seen: Optional[dict], path) -> Optional[dict]:
    """The recorded trial whose source file has the bytes of ``path`` (None where none has)."""
    sha = file_sha256(path)
    if not seen or sha is None:
        return None
    for role in ROLES:
        for r in seen.get(role, ()):
            if r["file_sha256"] == sha:
                return dict(r, role=role)
    return None


def subjects(seen: Optional[dict]) -> Dict[str, List[str]]:
    """The subject ids per role, sorted."""
    return {role: sorted({r["subject"] for r in (seen or {}).get(role, ())}) for role in ROLES}
