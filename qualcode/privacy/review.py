"""Reading the reviewed detections CSV."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from pathlib import Path

from ..errors import InputError, ValidationProblems
from ..problems import Problem
from ..textnorm import decode_text
from ..xlsx_export import csv_unquote
from .key import normalise
from .patterns import DECISIONS
from .records import Detection

def read_detections(path: str | Path) -> list[Detection]:
    """Read the reviewed detections CSV; every problem comes back at once with its line."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such detections file", "run `qualcode pseudonymise detect --out FILE` first")
    text, _ = decode_text(path.read_bytes(), path.name)
    reader = csv.DictReader(io.StringIO(text))
    missing = {"decision", "type", "text"} - {(c or "").strip() for c in reader.fieldnames or []}
    if missing:
        raise InputError(path, f"missing column(s) {', '.join(sorted(missing))}",
                         "keep the header that `pseudonymise detect` wrote", where="line 1")
    rows, problems = [], []
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): csv_unquote((v or "").strip()) for k, v in raw.items()}
        decision = DECISIONS.get(row.get("decision", "").lower())
        if decision is None:
            problems.append(Problem(str(path), line, f"decision {row.get('decision')!r} is not known",
                                    "write confirm, reject or add"))
            continue
        if not row.get("text"):
            problems.append(Problem(str(path), line, "the text cell is empty",
                                    "give the words to replace, or delete the row"))
            continue
        try:
            start = int(row["start"]) if row.get("start") else None
            end = int(row["end"]) if row.get("end") else None
            doc_id = int(row["document_id"]) if row.get("document_id") else None
        except ValueError:
            problems.append(Problem(str(path), line, "start, end and document_id must be whole numbers",
                                    "leave them as detect wrote them, or blank on a row you add"))
            continue
        label = row.get("label", "")
        if label and not (label.startswith("[") and label.endswith("]")):
            label = f"[{label}]"
        rows.append((line, Detection(doc_id, row.get("document", ""), start, end, row["text"],
                                     row.get("type") or "Person", row.get("rule", "") or "reviewer",
                                     label, row.get("context", ""), decision)))
    problems += _label_conflicts(path, rows)
    if problems:
        raise ValidationProblems(path, problems)
    return [r for _, r in rows]


def _label_conflicts(path: Path, rows: list[tuple[int, Detection]]) -> list[Problem]:
    labels: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for line, r in rows:
        if r.decision != "reject" and r.label:
            labels[normalise(r.text)][r.label].append(line)
    return [Problem(str(path), min(min(v) for v in by_label.values()),
                    f"{norm!r} has labels {', '.join(sorted(by_label))} (lines "
                    f"{', '.join(str(n) for v in by_label.values() for n in v)})",
                    "give every row of the same words the same label")
            for norm, by_label in labels.items() if len(by_label) > 1]
