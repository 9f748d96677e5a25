"""Tests of binarize, filter_min_counts and the Mult-VAE presets."""

import logging

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from conftest import shared_dataset

from skvaecf.datasets import (
    PRESETS,
    InteractionData,
    apply_preset,
    binarize,
    filter_min_counts,
    from_dataframe,
    load_movielens,
    load_netflix,
)


def interactions(dense, times=None):
    data = InteractionData.from_matrix(np.asarray(dense, dtype=np.float32))
    if times is None:
        return data
    stamps = sp.csr_matrix((np.asarray(times), data.X.indices, data.X.indptr), shape=data.X.shape)
    return InteractionData(data.X, data.user_ids, data.item_ids, stamps)


# --- binarize ------------------------------------------------------------------------


def test_binarize_is_strict_and_removes_the_rest():
    X = sp.csr_matrix(np.array([[5, 3.5, 4], [1, 0, 3.6]], dtype=np.float32))

    result = binarize(X, 3.5)

    assert sp.isspmatrix_csr(result) and result.dtype == np.float32
    np.testing.assert_array_equal(result.toarray(), [[1, 0, 1], [0, 0, 1]])
    assert result.nnz == 3


def test_binarize_interaction_data_keeps_shape_ids_and_timestamps(caplog):
    data = interactions([[5, 1, 0], [0, 2, 0]], times=[10, 20, 30])

    with caplog.at_level(logging.INFO):
        result = binarize(data, 3.5)

    assert result.X.shape == (2, 3)
    np.testing.assert_array_equal(result.timestamps.toarray(), [[10, 0, 0], [0, 0, 0]])
    assert "removed 2 of 3 interactions; 1 users and 2 items now have none" in caplog.text


def test_binarize_rejects_text():
    with pytest.raises(ValueError):
        binarize([["a", "b"]], 1.0)


# --- filter_min_counts ---------------------------------------------------------------

# Item 0 has 3 users, item 1 has 2 and item 2 has 1; user 2 has 3 items, the others 1 or 2.
SMALL = [[1, 1, 0], [1, 0, 0], [1, 1, 1]]


def test_items_first_then_users_once():
    result = filter_min_counts(interactions(SMALL), min_user=2, min_item=2)

    np.testing.assert_array_equal(result.user_ids, [0, 2])
    np.testing.assert_array_equal(result.item_ids, [0, 1])


def test_the_order_of_the_filters_matters():
    # Item 2 and user 1 are rare; whichever goes first takes another user / item along.
    data = interactions([[1, 1, 0], [0, 1, 0], [1, 0, 1]])

    items_first = filter_min_counts(data, min_user=2, min_item=2)
    users_first = filter_min_counts(data, min_user=2, min_item=2, order="users_first")

    assert (items_first.user_ids.tolist(), items_first.item_ids.tolist()) == ([0], [0, 1])
    assert (users_first.user_ids.tolist(), users_first.item_ids.tolist()) == ([0, 2], [0])


def test_single_pass_can_leave_items_below_the_minimum_iterate_does_not():
    # A chain: removing user 3 (one item) leaves item 2 with one user, user 2 then too.
    data = interactions([[1, 1, 0], [1, 1, 0], [1, 0, 1], [0, 0, 1]])

    once = filter_min_counts(data, min_user=2, min_item=2)
    fixed = filter_min_counts(data, min_user=2, min_item=2, iterate=True)

    np.testing.assert_array_equal(once.X.getnnz(axis=0), [3, 2, 1])
    np.testing.assert_array_equal(fixed.user_ids, [0, 1])
    np.testing.assert_array_equal(fixed.item_ids, [0, 1])
    again = filter_min_counts(fixed, min_user=2, min_item=2, iterate=True)
    assert again.n_interactions == fixed.n_interactions


def test_empty_rows_and_columns_are_always_dropped():
    data = interactions([[1, 0, 0], [0, 0, 0], [1, 0, 1]])

    result = filter_min_counts(data, min_user=0, min_item=0)

    assert result.X.shape == (2, 2)
    np.testing.assert_array_equal(result.item_ids, [0, 2])


def test_filters_log_what_they_removed(caplog):
    with caplog.at_level(logging.INFO, logger="skvaecf.datasets.preprocessing"):
        filter_min_counts(interactions(SMALL), min_user=3, min_item=1)

    assert ("kept users with >= 3 interactions: removed 2 users, 0 items and 3 interactions; "
            "1 users, 3 items and 3 interactions left") in caplog.text
    assert "kept items with >= 1" not in caplog.text


def test_empty_result_names_the_thresholds():
    with pytest.raises(ValueError, match="min_user=10, min_item=2"):
        filter_min_counts(interactions(SMALL), min_user=10, min_item=2)


def test_invalid_thresholds_raise():
    with pytest.raises(ValueError, match="min_user"):
        filter_min_counts(interactions(SMALL), min_user=-1)
    with pytest.raises(ValueError, match="order"):
        filter_min_counts(interactions(SMALL), order="random")
    with pytest.raises(TypeError, match="data"):
        filter_min_counts(sp.csr_matrix(np.eye(2)))


# --- presets -------------------------------------------------------------------------


def liang_filter_triplets(ratings, threshold, min_user, min_item):
    """The Mult-VAE notebook's recipe, written independently with pandas."""
    ratings = ratings[ratings["rating"] > threshold]
    if min_item > 0:
        item_counts = ratings.groupby("item").size()
        ratings = ratings[ratings["item"].isin(item_counts.index[item_counts >= min_item])]
    if min_user > 0:
        user_counts = ratings.groupby("user").size()
        ratings = ratings[ratings["user"].isin(user_counts.index[user_counts >= min_user])]
    return ratings


def test_published_sizes_are_recorded():
    sizes = {name: (p.expected_users, p.expected_items) for name, p in PRESETS.items()}

    assert sizes == {"ml-20m": (136_677, 20_108), "netflix": (463_435, 17_769),
                     "msd": (571_355, 41_140)}


def test_unknown_preset_lists_valid_names():
    with pytest.raises(ValueError, match="'ml-20m', 'netflix', 'msd'"):
        apply_preset(interactions(SMALL), "ml-100m")


def test_a_ratings_preset_on_implicit_data_names_the_rating_threshold():
    clicks = InteractionData.from_matrix(sp.csr_matrix(np.ones((10, 6), dtype=np.float32)))
    with pytest.raises(ValueError, match="keeps values above 3.5 .* largest value in the "
                                         "data is 1"):
        apply_preset(clicks, "ml-20m")


def test_netflix_preset_on_a_small_file(tmp_path):
    # Customer 1 likes movies 1-6, customer 2 likes 1-5 (exactly 5), customer 3 likes
    # only 4 movies and customer 4 only movie 7, which nobody else likes.
    ratings = {1: {m: 5 for m in range(1, 7)}, 2: {m: 4 for m in range(1, 6)},
               3: {1: 5, 2: 5, 3: 5, 4: 5, 5: 3}, 4: {1: 2, 2: 2, 7: 5}}
    lines = []
    for movie in range(1, 8):
        lines.append(f"{movie}:")
        lines += [f"{user},{stars[movie]},2005-01-01" for user, stars in ratings.items()
                  if movie in stars]
    path = tmp_path / "combined_data_1.txt"
    path.write_text("\n".join(lines) + "\n")

    result = apply_preset(load_netflix(path), "netflix")

    np.testing.assert_array_equal(result.user_ids, [1, 2])
    np.testing.assert_array_equal(result.item_ids, np.arange(1, 7))
    assert result.n_interactions == 11 and np.all(result.X.data == 1.0)
    assert result.timestamps is not None


def test_movielens_preset_matches_the_paper_recipe_on_small_ratings():
    rng = np.random.default_rng(0)
    log = pd.DataFrame({"user": rng.integers(0, 60, 2000), "item": rng.integers(0, 80, 2000),
                        "rating": rng.integers(1, 6, 2000).astype(float)})
    log = log.drop_duplicates(["user", "item"])

    result = apply_preset(from_dataframe(log, value_col="rating"), "ml-20m")
    expected = liang_filter_triplets(log, 3.5, min_user=5, min_item=0)

    assert result.n_interactions == len(expected)
    np.testing.assert_array_equal(result.user_ids, np.unique(expected["user"]))
    np.testing.assert_array_equal(result.item_ids, np.unique(expected["item"]))
    assert np.all(result.X.data == 1.0)


@pytest.mark.parametrize(
    "preset, sizes", [("ml-20m", (6034, 3533, 575_272)), ("msd", (5839, 1426, 852_305))]
)
def test_presets_on_real_movielens_1m(preset, sizes):
    folder = shared_dataset("ml-1m")
    ratings = pd.read_csv(folder / "ratings.csv")
    recipe = PRESETS[preset]

    result = apply_preset(load_movielens(folder), preset)
    expected = liang_filter_triplets(ratings, recipe.threshold, recipe.min_user, recipe.min_item)

    assert (result.n_users, result.n_items, result.n_interactions) == sizes
    assert (expected["user"].nunique(), expected["item"].nunique(), len(expected)) == sizes
    np.testing.assert_array_equal(result.item_ids, np.unique(expected["item"]))
