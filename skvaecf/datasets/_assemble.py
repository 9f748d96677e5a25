"""Turn columns of raw (user, item, value, timestamp) records into an InteractionData."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._base import InteractionData

logger = logging.getLogger(__name__)

#: The ways of resolving several records of the same (user, item) pair.
DUPLICATE_POLICIES = ("last", "max", "sum", "raise")


class IdEncoder:
    """Give consecutive integer codes to ids seen chunk after chunk, then sort them.

    Each chunk is hashed with :func:`pandas.factorize`; only the distinct ids of a chunk
    are looked up in the ids seen so far, so the cost per record is a hash, not a
    Python call.
    """

    def __init__(self) -> None:
        self._known: pd.Index | None = None

    def encode(self, ids) -> np.ndarray:
        """Return the (provisional) code of each id of one chunk."""
        codes, uniques = pd.factorize(np.asarray(ids))
        uniques = pd.Index(uniques)

        if self._known is None:
            self._known = uniques
            return codes.astype(self._code_type())

        positions = self._known.get_indexer(uniques)
        unseen = positions < 0
        if unseen.any():
            positions[unseen] = len(self._known) + np.arange(unseen.sum())
            self._known = self._known.append(uniques[unseen])
        return positions[codes].astype(self._code_type())

    def _code_type(self) -> type:
        """Use 4-byte codes (halving their memory) unless there are 2**31 distinct ids."""
        return np.int32 if len(self._known) < np.iinfo(np.int32).max else np.int64

    def known_ids(self) -> np.ndarray:
        """Return the distinct ids seen so far, in order of first appearance."""
        return np.array([]) if self._known is None else self._known.to_numpy()

    def sorted_ids(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the ids in ascending order and the map from provisional to final code."""
        if self._known is None:
            return np.array([], dtype=np.int64), np.array([], dtype=np.int32)

        ids = self._known.to_numpy()
        order = np.argsort(ids, kind="stable")
        final_code = np.empty(len(ids), dtype=self._code_type())
        final_code[order] = np.arange(len(ids))
        return ids[order], final_code


class InteractionCollector:
    """Accumulate chunks of records and build the sparse matrix once at the end.

    Parameters
    ----------
    source : str
        The file or object the records come from, used in messages.
    duplicates : {"last", "max", "sum", "raise"}, default="last"
        How :meth:`build` merges repeated (user, item) pairs.
    value_column : str, default="value"
        Name of the value column in the source, used in messages.
    user_ids, item_ids : array-like or None, default=None
        Ascending, unique ids to use as rows / columns instead of those found in the
        records; a record with another id makes :meth:`build` raise ValueError.

    Raises
    ------
    ValueError
        If ``duplicates`` is unknown, or ``user_ids`` / ``item_ids`` are not
        one-dimensional, ascending and unique.
    TypeError
        If ``user_ids`` / ``item_ids`` mix types that cannot be compared.

    Notes
    -----
    The parameters are checked at once, so that a mistake fails before a large file is
    read. Values that are NaN, infinite or beyond the float32 range are counted over all
    chunks and make :meth:`build` raise ValueError with their number.
    """

    #: Records buffered before their ids are encoded; many tiny chunks (one per Netflix
    #: movie file) are thus encoded together.
    flush_rows = 1_000_000

    def __init__(
        self,
        source: str,
        duplicates: str = "last",
        *,
        value_column: str = "value",
        user_ids=None,
        item_ids=None,
    ) -> None:
        if duplicates not in DUPLICATE_POLICIES:
            raise ValueError(
                f"duplicates must be one of {DUPLICATE_POLICIES}, got {duplicates!r}"
            )

        self.source = source
        self.duplicates = duplicates
        self.value_column = value_column
        self._fixed_ids = {
            "user": None if user_ids is None else check_catalogue(user_ids, "user"),
            "item": None if item_ids is None else check_catalogue(item_ids, "item"),
        }

        self._users = IdEncoder()
        self._items = IdEncoder()
        self._chunks = {"user": [], "item": [], "value": [], "time": []}
        self._pending_users, self._pending_items = [], []
        self._pending_rows = 0
        self._n_non_finite = 0

    def add(self, users, items, values=None, timestamps=None) -> None:
        """Add one chunk of records; ``values`` default to 1.0, ``timestamps`` to none."""
        users, items = np.asarray(users), np.asarray(items)
        if len(users) != len(items):
            raise ValueError(f"{self.source}: user and item columns differ in length")

        self._pending_users.append(users)
        self._pending_items.append(items)
        self._pending_rows += len(users)

        if values is None:
            values = np.ones(len(users), dtype=np.float32)
        else:
            values = self._as_float32(values)
        self._chunks["value"].append(values)

        if timestamps is not None:
            self._chunks["time"].append(np.asarray(timestamps, dtype=np.int64))

        if self._pending_rows >= self.flush_rows:
            self._encode_pending()

    def _as_float32(self, values) -> np.ndarray:
        """Convert values to float32, counting those that are not finite afterwards."""
        # A finite float64 beyond the float32 range becomes inf here and is counted too.
        with np.errstate(over="ignore"):
            values = np.asarray(values, dtype=np.float32)
        self._n_non_finite += len(values) - int(np.count_nonzero(np.isfinite(values)))
        return values

    def _encode_pending(self) -> None:
        """Encode the buffered user and item ids into integer codes."""
        if not self._pending_users:
            return
        self._chunks["user"].append(self._users.encode(np.concatenate(self._pending_users)))
        self._chunks["item"].append(self._items.encode(np.concatenate(self._pending_items)))
        self._pending_users, self._pending_items = [], []
        self._pending_rows = 0

    def build(self, *, name: str) -> InteractionData:
        """Return the InteractionData of all chunks added so far (the chunks are released).

        Raises
        ------
        ValueError
            If no record was added, some values are not finite, or a record has an id
            outside the ``user_ids`` / ``item_ids`` given to the constructor.
        TypeError
            If the ids of the records mix types that cannot be sorted (such as int and
            str).
        """
        self._encode_pending()
        n_records = sum(map(len, self._chunks["value"]))
        if n_records == 0:
            raise ValueError(f"{self.source}: no interactions found")
        if self._n_non_finite:
            raise ValueError(
                f"{self.source}: column {self.value_column!r} must hold finite numbers, "
                f"but {self._n_non_finite} of {n_records} rows are NaN, infinite or beyond "
                "the float32 range"
            )

        users, user_ids = _final_codes(self._users, self._take("user"),
                                       self._fixed_ids["user"], "user", self.source)
        items, item_ids = _final_codes(self._items, self._take("item"),
                                       self._fixed_ids["item"], "item", self.source)
        pairs = users.astype(np.int64) * len(item_ids) + items
        del users, items

        has_times = sum(map(len, self._chunks["time"])) == n_records
        times = self._take("time") if has_times else None

        X, timestamps = build_matrices(
            pairs, self._take("value"), times, shape=(len(user_ids), len(item_ids)),
            duplicates=self.duplicates, source=self.source,
        )
        return InteractionData(X, user_ids, item_ids, timestamps, name)

    def _take(self, column: str) -> np.ndarray:
        """Concatenate the chunks of one column and drop them, to free their memory."""
        chunks, self._chunks[column] = self._chunks[column], []
        return np.concatenate(chunks)


def check_catalogue(ids, what: str) -> np.ndarray:
    """Return explicit ``{what}_ids`` as an array, checked to be 1-D, ascending and unique.

    Raises
    ------
    ValueError
        If the ids are not one-dimensional, not ascending, or repeat an id (the
        message gives the first few repeated ids).
    TypeError
        If the ids mix types that cannot be compared, such as int and str.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"{what}_ids must be one-dimensional, got shape {ids.shape}")

    try:
        decreasing = ids[1:] < ids[:-1]
    except TypeError as error:
        raise TypeError(
            f"{what}_ids mix types that cannot be compared ({_type_names(ids)}); "
            "give ids of one type"
        ) from error
    if decreasing.any():
        position = int(decreasing.argmax()) + 1
        before, after = ids[position - 1:position + 1].tolist()
        raise ValueError(
            f"{what}_ids must be sorted in ascending order; {after!r} at position "
            f"{position} comes after {before!r}"
        )

    repeated = np.unique(ids[1:][ids[1:] == ids[:-1]])
    if len(repeated):
        raise ValueError(
            f"{what}_ids must be unique, but {len(repeated)} id(s) appear more than once, "
            f"e.g. {repeated[:5].tolist()}"
        )
    return ids


def _type_names(ids) -> str:
    """Name the Python types found among some ids, for error messages."""
    return ", ".join(sorted({type(value).__name__ for value in ids}))


def _final_codes(encoder, codes, fixed_ids, what, source):
    """Map provisional codes to the rows / columns of the sorted ids or given fixed ids."""
    try:
        seen_ids, final_code = encoder.sorted_ids()
    except TypeError as error:
        raise TypeError(
            f"{source}: the {what} ids mix types that cannot be sorted "
            f"({_type_names(encoder.known_ids())}); convert them to one type first, "
            "e.g. with .astype(str)"
        ) from error

    if fixed_ids is None:
        return final_code[codes], seen_ids

    positions = np.searchsorted(fixed_ids, seen_ids).clip(max=max(len(fixed_ids) - 1, 0))
    known = (fixed_ids[positions] == seen_ids) if len(fixed_ids) else np.zeros(len(seen_ids), bool)
    if not np.all(known):
        unknown = seen_ids[~known]
        raise ValueError(
            f"{source}: {len(unknown)} {what} ids are not in the given {what}_ids, "
            f"e.g. {unknown[:5].tolist()}"
        )
    return positions[final_code[codes]], fixed_ids


def build_matrices(pairs, values, times, *, shape, duplicates, source):
    """Build the CSR value matrix (and aligned timestamp matrix) from coordinate arrays.

    ``pairs`` holds ``row * n_columns + column`` for each record; it is sorted in place
    (and reused) to save memory. Entries end up in row-major order with sorted column
    indices, and repeated (user, item) pairs are merged following ``duplicates``. Pairs
    whose (merged) value is 0 are not stored, so that ``X.nnz`` counts the non-zero
    interactions; their number is logged at INFO level.
    """
    n_users, n_items = shape
    if duplicates == "max":
        order = np.lexsort((values, pairs))
    else:
        order = np.argsort(pairs, kind="stable")
    pairs.sort()
    values = values[order]
    times = None if times is None else times[order]
    del order

    group_end = np.append(pairs[1:] != pairs[:-1], True)
    n_repeated = len(pairs) - int(group_end.sum())
    if n_repeated:
        if duplicates == "raise":
            raise ValueError(f"{source}: {n_repeated} records repeat an earlier (user, item) pair")
        logger.warning(
            "%s: merged %d repeated (user, item) records (duplicates=%r)",
            source, n_repeated, duplicates,
        )
        values, times = _merge_repeats(values, times, group_end, duplicates)
        pairs = pairs[group_end]
        if not np.isfinite(values).all():
            raise ValueError(f"{source}: summing repeated records exceeds the float32 range")
    del group_end

    pairs, values, times = _drop_zeros(pairs, values, times, source)

    indptr = np.searchsorted(pairs, np.arange(n_users + 1, dtype=np.int64) * n_items)
    np.remainder(pairs, n_items, out=pairs)

    X = _csr(values, pairs, indptr, shape)
    timestamps = None if times is None else _csr(times, pairs, indptr, shape)
    return X, timestamps


def _drop_zeros(pairs, values, times, source):
    """Remove the pairs whose value is 0: X stores no explicit zeros."""
    is_zero = values == 0
    n_zeros = int(np.count_nonzero(is_zero))
    if n_zeros == 0:
        return pairs, values, times

    logger.info(
        "%s: dropped %d (user, item) pairs whose value is 0 (X stores no explicit zeros)",
        source, n_zeros,
    )
    keep = ~is_zero
    return pairs[keep], values[keep], None if times is None else times[keep]


def _merge_repeats(values, times, group_end, duplicates):
    """Reduce each run of equal pairs to one value (and time), following the policy."""
    if duplicates in ("last", "max"):
        return values[group_end], None if times is None else times[group_end]

    group_start = np.flatnonzero(np.insert(group_end[:-1], 0, True))
    with np.errstate(over="ignore"):  # an overflow to inf is reported by the caller
        summed = np.add.reduceat(values, group_start)
    latest = None if times is None else np.maximum.reduceat(times, group_start)
    return summed.astype(np.float32), latest


def _csr(data, indices, indptr, shape):
    """Make a CSR matrix from canonical arrays, with 32-bit indices when they fit.

    The index arrays are copied, so that matrices built from the same arrays (values
    and timestamps) never share them: an in-place change of one must not alter the other.
    """
    index_dtype = np.int32 if max(len(data), max(shape)) < np.iinfo(np.int32).max else np.int64
    return sp.csr_matrix(
        (data, indices.astype(index_dtype), indptr.astype(index_dtype)), shape=shape
    )
