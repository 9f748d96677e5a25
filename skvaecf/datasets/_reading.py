"""Chunked, checked reading of delimited text files with the pandas C parser."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

#: Rows parsed per chunk: bounds the memory of the pandas frames while streaming.
CHUNK_ROWS = 2_000_000


def existing_file(path: str | os.PathLike) -> Path:
    """Return ``path`` as a Path, or raise FileNotFoundError naming it."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise FileNotFoundError(f"{path} is a folder; expected a file")
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    return path


def first_line(path: Path) -> str:
    """Return the first line of a text file without its line ending ('' if empty)."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.readline().rstrip("\r\n")


def read_chunks(
    path: Path, *, layout: str, required: list[str] | None = None, **read_csv_options
) -> Iterator[pd.DataFrame]:
    """Yield the file as DataFrames of at most :data:`CHUNK_ROWS` rows.

    Parsing errors and missing fields in the ``required`` columns (default: all) become
    a ValueError naming the file and the expected ``layout``, so that a wrong file fails
    early with a useful message.
    """
    options = {"engine": "c", "chunksize": CHUNK_ROWS, **read_csv_options}
    try:
        with pd.read_csv(path, **options) as reader:
            first_row = 0
            for chunk in reader:
                _check_complete(chunk, required, path, layout, first_row)
                first_row += len(chunk)
                yield chunk
    except (pd.errors.ParserError, ValueError, TypeError) as error:
        if str(error).startswith(f"{path}:"):
            raise
        raise ValueError(f"{path}: expected {layout}; could not parse it: {error}") from error


def _check_complete(chunk, required, path, layout, first_row) -> None:
    """Raise ValueError if a row misses a required field (pandas fills it with NaN)."""
    columns = chunk if required is None else chunk[required]
    missing = columns.isna().any(axis=1).to_numpy()
    if missing.any():
        row = first_row + int(missing.argmax())
        raise ValueError(
            f"{path}: expected {layout}; data row {row + 1} has missing or empty fields"
        )
