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
            return codes.astype(np.int64)

        positions = self._known.get_indexer(uniques)
        unseen = positions < 0
        if unseen.any():
            positions[unseen] = len(self._known) + np.arange(unseen.sum())
            self._known = self._known.append(uniques[unseen])
        return positions[codes].astype(np.int64)

    def sorted_ids(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the ids in ascending order and the map from provisional to final code."""
        if self._known is None:
            return np.array([], dtype=np.int64), np.array([], dtype=np.int64)

        ids = self._known.to_numpy()
        order = np.argsort(ids, kind="stable")
        final_code = np.empty(len(ids), dtype=np.int64)
        final_code[order] = np.arange(len(ids))
        return ids[order], final_code


class InteractionCollector:
    """Accumulate chunks of records and build the sparse matrix once at the end.

    Parameters
    ----------
    source : str
        The file or object the records come from, used in messages.
    """

    #: Records buffered before their ids are encoded; many tiny chunks (one per Netflix
    #: movie file) are thus encoded together.
    flush_rows = 1_000_000

    def __init__(self, source: str) -> None:
        self.source = source
        self._users = IdEncoder()
        self._items = IdEncoder()
        self._chunks = {"user": [], "item": [], "value": [], "time": []}
        self._pending_users, self._pending_items = [], []
        self._pending_rows = 0

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
        self._chunks["value"].append(np.asarray(values, dtype=np.float32))

        if timestamps is not None:
            self._chunks["time"].append(np.asarray(timestamps, dtype=np.int64))

        if self._pending_rows >= self.flush_rows:
            self._encode_pending()

    def _encode_pending(self) -> None:
        """Encode the buffered user and item ids into integer codes."""
        if not self._pending_users:
            return
        self._chunks["user"].append(self._users.encode(np.concatenate(self._pending_users)))
        self._chunks["item"].append(self._items.encode(np.concatenate(self._pending_items)))
        self._pending_users, self._pending_items = [], []
        self._pending_rows = 0

    def build(
        self,
        *,
        name: str,
        duplicates: str = "last",
        user_ids: np.ndarray | None = None,
        item_ids: np.ndarray | None = None,
    ) -> InteractionData:
        """Return the InteractionData of all chunks added so far.

        ``user_ids`` / ``item_ids`` fix the rows / columns to those ids (in that order,
        which must be ascending); a record with another id raises ValueError.
        """
        self._encode_pending()
        if not self._chunks["user"] or sum(map(len, self._chunks["user"])) == 0:
            raise ValueError(f"{self.source}: no interactions found")

        users, user_ids = _final_codes(self._users, self._chunks["user"], user_ids, "user",
                                       self.source)
        items, item_ids = _final_codes(self._items, self._chunks["item"], item_ids, "item",
                                       self.source)

        values = np.concatenate(self._chunks["value"])
        has_times = sum(map(len, self._chunks["time"])) == len(values)
        times = np.concatenate(self._chunks["time"]) if has_times else None

        X, timestamps = build_matrices(
            users, items, values, times, shape=(len(user_ids), len(item_ids)),
            duplicates=duplicates, source=self.source,
        )
        return InteractionData(X, user_ids, item_ids, timestamps, name)


def _final_codes(encoder, chunks, fixed_ids, what, source):
    """Concatenate code chunks and map them to sorted ids, or to the given fixed ids."""
    codes = np.concatenate(chunks)
    seen_ids, final_code = encoder.sorted_ids()

    if fixed_ids is None:
        return final_code[codes], seen_ids

    fixed_ids = np.asarray(fixed_ids)
    if np.any(fixed_ids[1:] < fixed_ids[:-1]):
        raise ValueError(f"{what}_ids must be sorted in ascending order")

    positions = np.searchsorted(fixed_ids, seen_ids).clip(max=max(len(fixed_ids) - 1, 0))
    known = (fixed_ids[positions] == seen_ids) if len(fixed_ids) else np.zeros(len(seen_ids), bool)
    if not np.all(known):
        unknown = seen_ids[~known]
        raise ValueError(
            f"{source}: {len(unknown)} {what} ids are not in the given {what}_ids, "
            f"e.g. {unknown[:5].tolist()}"
        )
    return positions[final_code[codes]], fixed_ids


def build_matrices(users, items, values, times, *, shape, duplicates, source):
    """Build the CSR value matrix (and aligned timestamp matrix) from coordinate arrays.

    Entries are put in row-major order with sorted column indices, and repeated
    (user, item) pairs are merged following ``duplicates``.
    """
    if duplicates not in DUPLICATE_POLICIES:
        raise ValueError(f"duplicates must be one of {DUPLICATE_POLICIES}, got {duplicates!r}")

    n_users, n_items = shape
    pair = users * np.int64(n_items) + items
    if duplicates == "max":
        order = np.lexsort((values, pair))
    else:
        order = np.argsort(pair, kind="stable")
    pair = pair[order]

    group_end = np.append(pair[1:] != pair[:-1], True)
    n_repeated = len(pair) - int(group_end.sum())
    if n_repeated and duplicates == "raise":
        raise ValueError(f"{source}: {n_repeated} records repeat an earlier (user, item) pair")

    values, times = _merge_repeats(values[order], None if times is None else times[order],
                                   group_end, duplicates)
    if n_repeated:
        logger.warning(
            "%s: merged %d repeated (user, item) records, keeping the %s value",
            source, n_repeated, duplicates,
        )

    pair = pair[group_end]
    indptr = np.zeros(n_users + 1, dtype=np.int64)
    np.cumsum(np.bincount(pair // n_items, minlength=n_users), out=indptr[1:])
    indices = pair % n_items

    X = _csr(values, indices, indptr, shape)
    timestamps = None if times is None else _csr(times, indices, indptr, shape)
    return X, timestamps


def _merge_repeats(values, times, group_end, duplicates):
    """Reduce each run of equal pairs to one value (and time), following the policy."""
    if group_end.all():
        return values, times

    if duplicates in ("last", "max"):
        return values[group_end], None if times is None else times[group_end]

    group_start = np.flatnonzero(np.insert(group_end[:-1], 0, True))
    summed = np.add.reduceat(values, group_start)
    latest = None if times is None else np.maximum.reduceat(times, group_start)
    return summed.astype(np.float32), latest


def _csr(data, indices, indptr, shape):
    """Make a CSR matrix from canonical arrays, with 32-bit indices when they fit."""
    index_dtype = np.int32 if max(len(data), max(shape)) < np.iinfo(np.int32).max else np.int64
    return sp.csr_matrix(
        (data, indices.astype(index_dtype), indptr.astype(index_dtype)), shape=shape
    )
