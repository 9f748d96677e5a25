"""Tests of the synthetic interaction generator."""

import numpy as np
import pytest
import scipy.sparse as sp

from skvaecf.datasets import InteractionData, make_interactions


def test_shape_type_and_binary_values():
    data = make_interactions(200, 50, random_state=0)

    assert isinstance(data, InteractionData)
    assert sp.isspmatrix_csr(data.X)
    assert data.X.shape == (200, 50)
    assert data.X.dtype == np.float32
    assert np.all(data.X.data == 1.0)
    assert data.timestamps is None
    np.testing.assert_array_equal(data.user_ids, np.arange(200))
    np.testing.assert_array_equal(data.item_ids, np.arange(50))


def test_every_user_has_an_interaction():
    X = make_interactions(500, 300, density=0.001, random_state=1).X

    assert X.getnnz(axis=1).min() >= 1


def test_same_seed_same_data_other_seed_other_data():
    first = make_interactions(300, 80, random_state=3).X
    again = make_interactions(300, 80, random_state=3).X
    other = make_interactions(300, 80, random_state=4).X

    assert (first != again).nnz == 0
    assert (first != other).nnz > 0


def test_density_is_close_to_the_target():
    X = make_interactions(2000, 400, density=0.05, random_state=0).X

    assert X.nnz / (2000 * 400) == pytest.approx(0.05, rel=0.15)


def test_popularity_exponent_makes_a_heavy_tail():
    def top_decile_share(exponent):
        counts = make_interactions(
            2000, 500, popularity_exponent=exponent, random_state=0
        ).X.getnnz(axis=0)
        return np.sort(counts)[::-1][:50].sum() / counts.sum()

    assert top_decile_share(1.0) > 0.35
    assert top_decile_share(0.0) < 0.2


def test_users_of_a_cluster_share_items():
    def overlap_spread(cluster_strength):
        # Same-cluster pairs share many items, other pairs few: the spread grows.
        X = make_interactions(400, 200, n_clusters=4, cluster_strength=cluster_strength,
                              popularity_exponent=0.0, density=0.1, activity_spread=0.0,
                              random_state=0).X
        overlap = (X @ X.T).toarray()
        return overlap[~np.eye(400, dtype=bool)].std()

    assert overlap_spread(50.0) > 2 * overlap_spread(1.0)


def test_zero_activity_spread_gives_equal_activity():
    counts = make_interactions(100, 100, density=0.1, activity_spread=0.0,
                               random_state=0).X.getnnz(axis=1)

    assert np.all(counts == 10)


@pytest.mark.parametrize(
    "kwargs", [{"n_users": 0}, {"density": 0.0}, {"density": 1.5}, {"n_clusters": 0},
               {"popularity_exponent": -1.0}, {"cluster_strength": 0.5}]
)
def test_invalid_parameters_raise(kwargs):
    arguments = {"n_users": 10, "n_items": 10} | kwargs

    with pytest.raises(ValueError, match=next(iter(kwargs))):
        make_interactions(**arguments)


@pytest.mark.parametrize(
    "name", ["n_users", "n_items", "n_clusters", "density", "cluster_strength"]
)
def test_bool_parameters_are_rejected(name):
    arguments = {"n_users": 10, "n_items": 10} | {name: True}

    with pytest.raises(ValueError, match=rf"'{name}' parameter .* not a bool"):
        make_interactions(**arguments)
