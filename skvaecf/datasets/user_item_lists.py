"""Load the one-line-per-user text files of the NGCF / LightGCN benchmark splits."""

from __future__ import annotations

import logging
import os

import numpy as np

from ._assemble import InteractionCollector, check_catalogue
from ._base import InteractionData
from ._reading import existing_file

__all__ = ["load_user_item_lists"]

logger = logging.getLogger(__name__)

_LAYOUT = "one line per user: 'user item item ...', non-negative integers separated by spaces"

#: Longest id, in digits, that float64 arithmetic decodes exactly.
_MAX_DIGITS = 15

_ZERO, _NINE, _NEWLINE = ord("0"), ord("9"), ord("\n")
_BLANKS = np.array([ord(" "), ord("\t"), ord("\r"), _NEWLINE], dtype=np.uint8)


def load_user_item_lists(
    path: str | os.PathLike,
    *,
    user_ids: np.ndarray | None = None,
    item_ids: np.ndarray | None = None,
) -> InteractionData:
    """Load a ``user item item ...`` file, as in the NGCF and LightGCN train/test splits.

    Parameters
    ----------
    path : str or path-like
        A text file with one line per user: the user id followed by the ids of the
        items of that user, all non-negative integers separated by spaces or TABs.
    user_ids, item_ids : array-like, default=None
        Ascending, unique ids to use as rows / columns instead of those found in the
        file, so that a test split lines up with its train split:
        ``load_user_item_lists(test, user_ids=train.user_ids, item_ids=train.item_ids)``.

    Returns
    -------
    InteractionData
        Binary ``X`` (all stored values 1.0), no timestamps. A user listed with no item
        is kept as an empty row.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file holds anything but integers and blanks (the message gives the line), a
        user starts more than one line (a file with one interaction per line, say),
        an id longer than 15 digits, or an id missing from ``user_ids`` / ``item_ids``,
        or if ``user_ids`` / ``item_ids`` are not ascending and unique.

    Notes
    -----
    Lines have different lengths, which a CSV parser does not handle, so the file is
    tokenised with NumPy array operations on its bytes instead (no Python loop per
    line). The whole file is read into memory: about 30 bytes per id, fine for these
    splits (Gowalla's train.txt is 7 MB) but not meant for files of several GB. An item
    listed twice for a user is kept once, with a warning.

    The Gowalla split of [1]_ and [2]_ has 29,858 users and 40,981 items, with 810,128
    train and 217,242 test interactions.

    References
    ----------
    .. [1] X. Wang, X. He, M. Wang, F. Feng and T.-S. Chua, "Neural Graph Collaborative
       Filtering", SIGIR 2019.
    .. [2] X. He, K. Deng, X. Wang, Y. Li, Y. Zhang and M. Wang, "LightGCN: Simplifying
       and Powering Graph Convolution Network for Recommendation", SIGIR 2020.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from skvaecf.datasets import load_user_item_lists
    >>> temporary = tempfile.TemporaryDirectory()
    >>> folder = pathlib.Path(temporary.name)
    >>> _ = (folder / "train.txt").write_text("0 0 1 2\\n1 2 3\\n")
    >>> _ = (folder / "test.txt").write_text("0 3\\n1 0\\n")
    >>> train = load_user_item_lists(folder / "train.txt")
    >>> test = load_user_item_lists(folder / "test.txt", user_ids=train.user_ids,
    ...                             item_ids=train.item_ids)
    >>> temporary.cleanup()
    >>> train.X.toarray()
    array([[1., 1., 1., 0.],
           [0., 0., 1., 1.]], dtype=float32)
    >>> test.X.shape
    (2, 4)
    """
    path = existing_file(path)
    user_ids = None if user_ids is None else check_catalogue(user_ids, "user")
    item_ids = None if item_ids is None else check_catalogue(item_ids, "item")
    raw = np.fromfile(path, dtype=np.uint8)

    token_values, token_lines = _integer_tokens(raw, path)
    is_user = np.ones(len(token_lines), dtype=bool)
    is_user[1:] = token_lines[1:] != token_lines[:-1]

    owner = np.maximum.accumulate(np.where(is_user, np.arange(len(is_user)), 0))
    users = token_values[owner[~is_user]]
    items = token_values[~is_user]

    line_users = token_values[is_user]
    listed_users, times_listed = np.unique(line_users, return_counts=True)
    if (times_listed > 1).any():
        repeated = int(np.argmax(times_listed > 1))
        lines = token_lines[is_user][line_users == listed_users[repeated]][:2] + 1
        raise ValueError(
            f"{path}: expected {_LAYOUT}, but user {listed_users[repeated]} starts lines "
            f"{lines[0]} and {lines[1]}; a file with one interaction per line ('user item "
            "rating timestamp') is read by load_csv or load_movielens")
    if user_ids is None:
        user_ids = listed_users
    elif not np.isin(listed_users, user_ids).all():
        unknown = listed_users[~np.isin(listed_users, user_ids)]
        raise ValueError(f"{path}: user ids {unknown[:5].tolist()} are not in user_ids")

    collector = InteractionCollector(str(path), user_ids=user_ids, item_ids=item_ids)
    collector.add(users, items)
    data = collector.build(name=path.stem)

    logger.info("loaded %r from %s", data, path)
    return data


def _integer_tokens(raw: np.ndarray, path) -> tuple[np.ndarray, np.ndarray]:
    """Return the value and the line number of every integer in a byte array."""
    is_digit = (raw >= _ZERO) & (raw <= _NINE)
    bad = ~is_digit & ~np.isin(raw, _BLANKS)
    if bad.any():
        line = int(np.count_nonzero(raw[: bad.argmax()] == _NEWLINE)) + 1
        raise ValueError(f"{path}: expected {_LAYOUT}; line {line} has another character")

    starts = np.flatnonzero(is_digit & ~np.insert(is_digit[:-1], 0, False))
    ends = np.flatnonzero(is_digit & ~np.append(is_digit[1:], False)) + 1
    lengths = ends - starts
    if len(lengths) and lengths.max() > _MAX_DIGITS:
        raise ValueError(f"{path}: an id has more than {_MAX_DIGITS} digits")

    values = np.zeros(len(starts), dtype=np.int64)
    for position in range(int(lengths.max(initial=0))):
        has_digit = lengths > position
        digits = raw[starts[has_digit] + position].astype(np.int64) - _ZERO
        values[has_digit] = values[has_digit] * 10 + digits

    lines = np.searchsorted(np.flatnonzero(raw == _NEWLINE), starts)
    return values, lines
