"""Tests of the InteractionData container."""

import dataclasses
import logging

import numpy as np
import pytest
import scipy.sparse as sp

from skvaecf.datasets import InteractionData, from_dataframe, load_movielens


@pytest.fixture
def data():
    X = sp.csr_matrix(np.array([[5, 0, 3], [0, 4, 0]], dtype=np.float32))
    times = sp.csr_matrix((np.array([10, 30, 20]), X.indices, X.indptr), shape=X.shape)
    return InteractionData(X, np.array([7, 9]), np.array(["a", "b", "c"]), times, "toy")


def test_sizes_and_repr(data):
    assert (data.n_users, data.n_items, data.n_interactions) == (2, 3, 3)
    assert "n_users=2" in repr(data) and "timestamps=yes" in repr(data)


def test_index_maps_go_both_ways(data):
    np.testing.assert_array_equal(data.item_ids_of([2, 0]), ["c", "a"])
    np.testing.assert_array_equal(data.user_ids_of([1]), [9])
    np.testing.assert_array_equal(data.item_index(["c", "a"]), [2, 0])
    np.testing.assert_array_equal(data.user_index([9]), [1])


def test_unknown_ids_raise_key_error(data):
    with pytest.raises(KeyError, match="unknown item ids"):
        data.item_index(["zzz"])
    with pytest.raises(KeyError, match="unknown user ids"):
        data.user_index([8])


def test_subset_keeps_ids_and_timestamps_aligned(data):
    part = data.subset(rows=[True, False], columns=[0, 2])

    np.testing.assert_array_equal(part.X.toarray(), [[5, 3]])
    np.testing.assert_array_equal(part.timestamps.toarray(), [[10, 30]])
    np.testing.assert_array_equal(part.item_ids, ["a", "c"])
    np.testing.assert_array_equal(part.user_ids, [7])


def test_to_dataframe_round_trip(data):
    back = from_dataframe(data.to_dataframe(), value_col="value", timestamp_col="timestamp")

    assert (back.X != data.X).nnz == 0
    assert (back.timestamps != data.timestamps).nnz == 0
    np.testing.assert_array_equal(back.item_ids, data.item_ids)


def test_from_matrix_uses_indices_as_ids():
    wrapped = InteractionData.from_matrix(sp.coo_matrix(np.eye(3, dtype=np.int64)))

    assert sp.isspmatrix_csr(wrapped.X) and wrapped.X.dtype == np.float32
    np.testing.assert_array_equal(wrapped.item_ids, np.arange(3))


def test_from_matrix_removes_explicit_zeros(caplog):
    X = sp.csr_matrix((np.array([1.0, 0.0, 2.0]), np.array([0, 1, 2]), np.array([0, 2, 3])),
                      shape=(2, 3))

    with caplog.at_level(logging.INFO, logger="skvaecf.datasets"):
        wrapped = InteractionData.from_matrix(X)

    assert wrapped.n_interactions == 2
    assert "removed 1 explicitly stored zeros" in caplog.text


def test_from_matrix_neither_changes_nor_shares_its_input():
    X = sp.csr_matrix((np.array([2.0, 1.0, 0.0], dtype=np.float32), np.array([2, 0, 1]),
                       np.array([0, 3])), shape=(1, 3))

    wrapped = InteractionData.from_matrix(X)

    assert not np.shares_memory(wrapped.X.data, X.data)
    np.testing.assert_array_equal(X.indices, [2, 0, 1])
    assert X.nnz == 3


def test_explicit_zeros_are_rejected():
    X = sp.csr_matrix((np.array([1.0, 0.0], dtype=np.float32), np.array([0, 1]),
                       np.array([0, 2])), shape=(1, 2))

    with pytest.raises(ValueError, match="X stores 1 explicit zeros"):
        InteractionData(X, np.arange(1), np.arange(2))


def test_attributes_cannot_be_reassigned(data):
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.X = data.X.copy()


def test_matrices_are_not_copied_on_access(data):
    # Documented: only the attributes are frozen, the arrays they hold are not.
    assert data.X is data.X
    data.X.data[0] = 2.0

    assert data.X[0, 0] == 2.0


def test_validation_errors():
    X = sp.csr_matrix(np.ones((2, 2), dtype=np.float32))

    with pytest.raises(TypeError, match="CSR"):
        InteractionData(X.tocoo(), np.arange(2), np.arange(2))
    with pytest.raises(ValueError, match="user_ids has 3 entries but X has 2 rows"):
        InteractionData(X, np.arange(3), np.arange(2))
    with pytest.raises(ValueError, match="item_ids has 1 entries"):
        InteractionData(X, np.arange(2), np.arange(1))
    with pytest.raises(ValueError, match="sparsity structure"):
        InteractionData(X, np.arange(2), np.arange(2), sp.csr_matrix(np.eye(2)))


def test_values_and_timestamps_do_not_share_index_arrays(tmp_path):
    path = tmp_path / "ratings.dat"
    path.write_text("1::1::5::100\n1::2::3::200\n")
    data = load_movielens(path)

    assert not np.shares_memory(data.X.indices, data.timestamps.indices)
    assert not np.shares_memory(data.X.indptr, data.timestamps.indptr)
