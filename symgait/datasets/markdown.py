"""Markdown documents written from code: a ``## heading`` section replaced in place (or appended), the
rest of the file kept.  Every generated section of docs/ (dataset report, references, the table of
every trial) is written through :func:`write_sections`."""
from __future__ import annotations

from pathlib import Path
from typing import Dict

from ..atomic import write_text

def write_sections(path, sections: Dict[str, str]) -> Path:
    """Replace (or append) each ``## heading`` section of the Markdown file ``path``; the rest of
    the file is kept."""
    path = Path(path)
    text = path.read_text() if path.exists() else "# Data\n"
    for head, body in sections.items():
        body = body.rstrip() + "\n"
        start = text.find(head + "\n")
        if start < 0:
            text = text.rstrip() + "\n\n" + body
            continue
        nxt = text.find("\n## ", start + len(head))
        text = text[:start] + body + ("" if nxt < 0 else text[nxt:])
    return write_text(path, text)
