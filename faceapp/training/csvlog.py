"""Append-only CSV log of training losses, trimmed on resume so steps never repeat."""

from __future__ import annotations

import csv
from pathlib import Path

from faceapp.core.tempfiles import replace_file


def _rewrite(path: Path, rows: list[list[str]]) -> None:
    """Replace the file's content with ``rows`` atomically (a kill mid-write keeps the old log)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    replace_file(tmp, path)


class CsvLog:
    """Rows of ``step`` plus named values; on open, drops rows past ``resume_step``."""

    def __init__(self, path: Path, *, resume_step: int) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.columns: list[str] | None = None
        if self.path.exists():
            with self.path.open(newline="") as fh:
                rows = list(csv.reader(fh))
            if rows:
                self.columns = rows[0]
                kept = [r for r in rows[1:] if r and int(r[0]) <= resume_step]
                _rewrite(self.path, [self.columns, *kept])

    def write(self, step: int, values: dict[str, float]) -> None:
        if self.columns is None:
            self.columns = ["step", *values]
            with self.path.open("w", newline="") as fh:
                csv.writer(fh).writerow(self.columns)
        new = [k for k in values if k not in self.columns]
        if new:  # a resumed run logs a new figure: widen the header, earlier rows leave it empty
            with self.path.open(newline="") as fh:
                rows = list(csv.reader(fh))[1:]
            self.columns = [*self.columns, *new]
            _rewrite(self.path, [self.columns, *(r + [""] * len(new) for r in rows)])
        row = [str(step)] + [repr(float(values[c])) if c in values else "" for c in self.columns[1:]]
        with self.path.open("a", newline="") as fh:
            csv.writer(fh).writerow(row)


def read_log(path: Path) -> list[dict[str, float]]:
    """The rows of a loss log as dicts of floats (a figure a row does not have is left out)."""
    with Path(path).open(newline="") as fh:
        return [{k: float(v) for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(fh)]
