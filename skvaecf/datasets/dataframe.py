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
        The records. Ids may be integers or strings, but all the ids of one column must
        have one type (so that they can be sorted). Wrap a dict of columns or an array
        with :class:`pandas.DataFrame` first.
    user_col, item_col : str, default="user", "item"
        Columns holding the user and item ids.
    value_col : str or None, default=None
        Numeric column holding the rating, count or weight; None stores 1.0 (implicit
        feedback). Values must be finite; they may be negative (see Notes).
    timestamp_col : str or None, default=None
        Column holding the interaction times: datetimes, or numbers of seconds since
        the epoch. Strings are parsed with :func:`pandas.to_datetime`.
    duplicates : {"last", "max", "sum", "raise"}, default="last"
        What to do when a (user, item) pair appears in several rows: keep the last row,
        the highest value, the sum of the values (with the latest time), or raise.
        Merged rows are logged as a warning.
    user_ids, item_ids : array-like or None, default=None
        Ascending, unique ids to use as rows / columns instead of those found in the
        table, for instance to line a test table up with a train set. Every id of the
        table must be among them; ids without records give empty rows / columns.
    name : str, default="dataframe"
        Stored in the result's ``name``.

    Returns
    -------
    InteractionData
        Rows and columns sorted by id; ``timestamps`` when ``timestamp_col`` is given.

    Raises
    ------
    TypeError
        If ``frame`` is not a DataFrame, or the ids of a column mix types that cannot be
        sorted (such as int and str).
    ValueError
        If a named column is absent (the message lists the columns), an id or time
        column has missing values, the values are not numeric or not finite (NaN,
        infinite or beyond the float32 range; the message gives the column and the
        number of such rows), ``user_ids`` / ``item_ids`` are not ascending and unique
        or miss an id of the table, or the table is empty.

    Notes
    -----
    Values are stored as float32, exact for integers below 2**24 (about 16.7 million).

    Rows whose value is 0 (after merging repeated pairs) are not stored: ``X`` holds no
    explicit zeros, and ``n_interactions`` counts the non-zero values. The number of
    such pairs is logged at INFO level; their users and items stay in ``user_ids`` and
    ``item_ids``, as empty rows / columns if they have no other record.

    Negative values are kept as they are, for rating scales centred on 0. The
    estimators of this package reject negative values at ``fit``: turn them into
    implicit feedback first, for instance with :func:`binarize` and a threshold.

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
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"frame must be a pandas DataFrame, got {type(frame).__name__}; convert it "
            "first, e.g. from_dataframe(pandas.DataFrame(records))"
        )

    columns = [user_col, item_col, value_col, timestamp_col]
    _check_columns(frame, columns, source="the DataFrame")

    collector = InteractionCollector("the DataFrame", duplicates, value_column=value_col,
                                     user_ids=user_ids, item_ids=item_ids)
    _add_table(collector, frame, *columns, source="the DataFrame")

    return collector.build(name=name)


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
        columns whose first 1000 values are integers written without leading zeros are
        read as integers (a later non-integer id then raises ValueError), otherwise as
        strings, so that ids such as "007" and "7" stay distinct.
    user_col, item_col : str, default="user", "item"
        Header names of the user and item id columns.
    value_col : str or None, default=None
        Header name of the numeric value column; None stores 1.0. Values must be
        finite; zeros are not stored and negative values are kept, as in
        :func:`from_dataframe`.
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
        If a named column is not in the header, a row cannot be parsed, or values are
        not finite (the message gives the file, the column and the number of rows).

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
        sample = pd.read_csv(path, sep=sep, nrows=1000, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        message = f"{path}: expected a delimited file with a header line: {error}"
        raise ValueError(message) from error
    _check_columns(sample, columns, source=str(path))

    collector = InteractionCollector(str(path), duplicates, value_column=value_col)
    layout = f"a delimited file (sep={sep!r}) with columns {', '.join(wanted)}"
    for chunk in read_chunks(path, layout=layout, sep=sep, usecols=wanted,
                             dtype=_id_types(sample, [user_col, item_col])):
        _add_table(collector, chunk, *columns, source=str(path))

    data = collector.build(name=name or path.stem)
    logger.info("loaded %r from %s", data, path)
    return data


def _id_types(sample: pd.DataFrame, id_columns: list[str]) -> dict[str, str]:
    """Fix the id column types from the first rows, so that every chunk parses alike.

    Integer ids stay integers (and sort numerically); anything else is read as text,
    including integers written with leading zeros ("007"), which would otherwise merge with
    another id ("7").
    """
    return {
        column: "int64" if sample[column].str.fullmatch(_PLAIN_INTEGER).all() else "str"
        for column in id_columns
    }


#: An integer as a program writes it: no sign but minus, no leading zero, no spaces.
_PLAIN_INTEGER = r"0|-?[1-9][0-9]*"


def _check_columns(frame: pd.DataFrame, columns, source: str) -> None:
    """Raise ValueError if a requested column is missing, listing the available ones."""
    missing = [column for column in columns if column is not None and column not in frame]
    if missing:
        raise ValueError(
            f"{source}: no column(s) {missing}; available columns: {list(frame.columns)}"
        )


def _add_table(collector, table, user_col, item_col, value_col, timestamp_col, source) -> None:
    """Check one table (or chunk) and add its records to the collector.

    Missing ids and times are reported here; NaN values are counted by the collector,
    together with the infinite ones.
    """
    _check_not_missing(table, [user_col, item_col, timestamp_col], source)

    values = None
    if value_col is not None:
        if not pd.api.types.is_numeric_dtype(table[value_col]):
            raise ValueError(f"{source}: value column {value_col!r} is not numeric")
        values = table[value_col].to_numpy(dtype=np.float64, na_value=np.nan)

    times = None if timestamp_col is None else _seconds(table[timestamp_col], source)
    collector.add(table[user_col].to_numpy(), table[item_col].to_numpy(), values, times)


def _check_not_missing(table: pd.DataFrame, columns, source: str) -> None:
    """Raise ValueError naming the columns with missing entries and how many each has."""
    columns = list(dict.fromkeys(column for column in columns if column is not None))
    n_missing = table[columns].isna().sum()
    n_missing = n_missing[n_missing > 0]
    if len(n_missing):
        counts = ", ".join(
            f"{column!r} ({count} of {len(table)} rows)" for column, count in n_missing.items()
        )
        raise ValueError(f"{source}: missing values in column(s) {counts}")


def _seconds(times: pd.Series, source: str) -> np.ndarray:
    """Convert datetimes, date strings or numbers to int64 seconds since the epoch."""
    if pd.api.types.is_numeric_dtype(times):
        n_infinite = int(np.count_nonzero(~np.isfinite(times.to_numpy(np.float64))))
        if n_infinite:
            raise ValueError(
                f"{source}: timestamp column {times.name!r} has {n_infinite} infinite values"
            )
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
