"""Build interaction data from any table: a pandas DataFrame or a delimited text file."""

from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd

from ._assemble import InteractionCollector
from ._base import InteractionData
from ._reading import existing_file, read_chunks

__all__ = ["from_dataframe", "load_csv"]

logger = logging.getLogger(__name__)


def from_dataframe(
    frame: pd.DataFrame,
    *,
    user_col: str = "user",
    item_col: str = "item",
    value_col: str | None = None,
    timestamp_col: str | None = None,
    duplicates: str = "last",
    user_ids: np.ndarray | None = None,
    item_ids: np.ndarray | None = None,
    name: str = "dataframe",
) -> InteractionData:
    """Build interaction data from a long table with one row per (user, item) record.

    Parameters
    ----------
    frame : pandas.DataFrame
        The records. Ids may be integers or strings.
    user_col, item_col : str, default="user", "item"
        Columns holding the user and item ids.
    value_col : str or None, default=None
        Numeric column holding the rating, count or weight; None stores 1.0 (implicit
        feedback).
    timestamp_col : str or None, default=None
        Column holding the interaction times: datetimes, or numbers of seconds since
        the epoch. Strings are parsed with :func:`pandas.to_datetime`.
    duplicates : {"last", "max", "sum", "raise"}, default="last"
        What to do when a (user, item) pair appears in several rows: keep the last row,
        the highest value, the sum of the values (with the latest time), or raise.
        Merged rows are logged as a warning.
    user_ids, item_ids : ndarray or None, default=None
        Ascending ids to use as rows / columns instead of those found in the table, for
        instance to line a test table up with a train set.
    name : str, default="dataframe"
        Stored in the result's ``name``.

    Returns
    -------
    InteractionData
        Rows and columns sorted by id; ``timestamps`` when ``timestamp_col`` is given.

    Raises
    ------
    ValueError
        If a named column is absent (the message lists the columns), holds missing
        values, or if the values are not numeric, or the table is empty.

    Notes
    -----
    Values are stored as float32, exact for integers below 2**24 (about 16.7 million).
    A value of 0 is kept as an explicitly stored entry, so it counts as an interaction.

    Examples
    --------
    >>> import pandas as pd
    >>> from skvaecf.datasets import from_dataframe
    >>> log = pd.DataFrame({"user": ["ann", "bob", "ann"], "item": [7, 7, 9],
    ...                     "stars": [4.0, 2.0, 5.0]})
    >>> data = from_dataframe(log, value_col="stars")
    >>> data.user_ids.tolist(), data.item_ids.tolist()
    (['ann', 'bob'], [7, 9])
    >>> data.X.toarray()
    array([[4., 5.],
           [2., 0.]], dtype=float32)
    """
    columns = [user_col, item_col, value_col, timestamp_col]
    _check_columns(frame, columns, source="the DataFrame")

    collector = InteractionCollector("the DataFrame", duplicates)
    _add_table(collector, frame, *columns, source="the DataFrame")

    return collector.build(name=name, user_ids=user_ids, item_ids=item_ids)


def load_csv(
    path: str | os.PathLike,
    *,
    user_col: str = "user",
    item_col: str = "item",
    value_col: str | None = None,
    timestamp_col: str | None = None,
    sep: str = ",",
    duplicates: str = "last",
    name: str | None = None,
) -> InteractionData:
    """Load interactions from a delimited text file with a header line.

    Parameters
    ----------
    path : str or path-like
        The file. Only the named columns are read, in chunks of two million rows. Id
        columns whose first 1000 values are integers are read as integers (a later
        non-integer id then raises ValueError), otherwise as strings.
    user_col, item_col : str, default="user", "item"
        Header names of the user and item id columns.
    value_col : str or None, default=None
        Header name of the numeric value column; None stores 1.0.
    timestamp_col : str or None, default=None
        Header name of the time column (seconds since the epoch, or dates).
    sep : str, default=","
        The single-character field separator (``"\\t"`` for TAB).
    duplicates : {"last", "max", "sum", "raise"}, default="last"
        What to do with repeated (user, item) pairs; see :func:`from_dataframe`.
    name : str or None, default=None
        Stored in the result's ``name``; defaults to the file name without extension.

    Returns
    -------
    InteractionData
        Rows and columns sorted by id.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If a named column is not in the header, or a row cannot be parsed.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from skvaecf.datasets import load_csv
    >>> folder = tempfile.TemporaryDirectory()
    >>> file = pathlib.Path(folder.name) / "clicks.csv"
    >>> _ = file.write_text("user,item,time\\nu1,a,2024-01-02\\nu2,b,2024-01-03\\n")
    >>> data = load_csv(file, timestamp_col="time")
    >>> folder.cleanup()
    >>> data.timestamps.toarray()
    array([[1704153600,          0],
           [         0, 1704240000]])
    """
    path = existing_file(path)
    columns = [user_col, item_col, value_col, timestamp_col]
    wanted = [column for column in columns if column is not None]

    try:
        sample = pd.read_csv(path, sep=sep, nrows=1000)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        message = f"{path}: expected a delimited file with a header line: {error}"
        raise ValueError(message) from error
    _check_columns(sample, columns, source=str(path))

    collector = InteractionCollector(str(path), duplicates)
    layout = f"a delimited file (sep={sep!r}) with columns {', '.join(wanted)}"
    for chunk in read_chunks(path, layout=layout, sep=sep, usecols=wanted,
                             dtype=_id_types(sample, [user_col, item_col])):
        _add_table(collector, chunk, *columns, source=str(path))

    data = collector.build(name=name or path.stem)
    logger.info("loaded %r from %s", data, path)
    return data


def _id_types(sample: pd.DataFrame, id_columns: list[str]) -> dict[str, str]:
    """Fix the id column types from the first rows, so that every chunk parses alike.

    Integer ids stay integers (and sort numerically); anything else is read as text.
    """
    return {
        column: "int64" if pd.api.types.is_integer_dtype(sample[column]) else "str"
        for column in id_columns
    }


def _check_columns(frame: pd.DataFrame, columns, source: str) -> None:
    """Raise ValueError if a requested column is missing, listing the available ones."""
    missing = [column for column in columns if column is not None and column not in frame]
    if missing:
        raise ValueError(
            f"{source}: no column(s) {missing}; available columns: {list(frame.columns)}"
        )


def _add_table(collector, table, user_col, item_col, value_col, timestamp_col, source) -> None:
    """Check one table (or chunk) and add its records to the collector."""
    used = [column for column in (user_col, item_col, value_col, timestamp_col) if column]
    if table[used].isna().to_numpy().any():
        raise ValueError(f"{source}: missing values in column(s) {used}")

    values = None
    if value_col is not None:
        if not pd.api.types.is_numeric_dtype(table[value_col]):
            raise ValueError(f"{source}: value column {value_col!r} is not numeric")
        values = table[value_col].to_numpy()

    times = None if timestamp_col is None else _seconds(table[timestamp_col], source)
    collector.add(table[user_col].to_numpy(), table[item_col].to_numpy(), values, times)


def _seconds(times: pd.Series, source: str) -> np.ndarray:
    """Convert datetimes, date strings or numbers to int64 seconds since the epoch."""
    if pd.api.types.is_numeric_dtype(times):
        return times.to_numpy(np.int64)

    if not pd.api.types.is_datetime64_any_dtype(times):
        try:
            times = pd.to_datetime(times)
        except (ValueError, TypeError) as error:
            message = f"{source}: timestamp column {times.name!r} is not dates or numbers"
            raise ValueError(message) from error
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return times.to_numpy().astype("datetime64[s]").astype(np.int64)
