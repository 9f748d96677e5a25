"""Fold-in/held-out splits and the strong-generalisation user split."""

import logging

import numpy as np
import pytest
import scipy.sparse as sp

from skvaecf.model_selection import fold_in_split, strong_generalization_split


def test_fold_in_and_held_out_partition_each_row(small_interactions):
    fold_in, held_out = fold_in_split(small_interactions, 0.2, random_state=0)
    assert (fold_in + held_out - small_interactions).nnz == 0
    assert fold_in.multiply(held_out).nnz == 0


def test_held_out_size_is_the_fraction_of_each_row():
    X = sp.csr_matrix(np.ones((3, 20), dtype=np.float32))
    _, held_out = fold_in_split(X, 0.25, random_state=1)
    assert np.all(np.diff(held_out.indptr) == 5)


def test_users_below_min_interactions_keep_everything_in_fold_in():
    X = sp.csr_matrix(np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], dtype=np.float32))
    fold_in, held_out = fold_in_split(X, 0.2, min_interactions=5, random_state=0)
    assert held_out[0].nnz == 0 and fold_in[0].nnz == 4
    assert held_out[1].nnz == 1


def test_a_split_that_holds_nothing_out_warns():
    X = sp.csr_matrix(np.ones((3, 4), dtype=np.float32))
    with pytest.warns(UserWarning, match="nothing is held out"):
        _, held_out = fold_in_split(X, 0.2, min_interactions=10, random_state=0)
    assert held_out.nnz == 0


def test_fold_in_split_is_reproducible_and_depends_on_the_seed(small_interactions):
    a = fold_in_split(small_interactions, random_state=3)[1]
    b = fold_in_split(small_interactions, random_state=3)[1]
    c = fold_in_split(small_interactions, random_state=4)[1]
    assert (a != b).nnz == 0 and (a != c).nnz > 0


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 2])
def test_impossible_held_out_fractions_are_rejected(small_interactions, fraction):
    with pytest.raises(ValueError, match="held_out_fraction"):
        fold_in_split(small_interactions, fraction)


def test_strong_generalization_split_has_disjoint_user_groups(small_interactions):
    split = strong_generalization_split(small_interactions, 20, 0.1, random_state=0)
    groups = [split.train_users, split.validation_users, split.test_users]
    assert [len(g) for g in groups] == [88, 20, 12]
    assert len(np.unique(np.concatenate(groups))) == small_interactions.shape[0]
    assert split.validation_data[0].shape == (20, split.train.shape[1])


def test_strong_generalization_split_keeps_only_items_seen_in_training(caplog):
    X = sp.csr_matrix(np.eye(6, dtype=np.float32) + np.eye(6, k=1, dtype=np.float32))
    with caplog.at_level(logging.INFO, logger="skvaecf.model_selection"):
        split = strong_generalization_split(X, 1, 1, min_interactions=1, random_state=0)
    assert np.all(np.diff(split.train.tocsc().indptr) > 0)
    assert split.train.shape[1] == split.items.size <= 6


def test_strong_generalization_split_needs_training_users(small_interactions):
    with pytest.raises(ValueError, match="no training user"):
        strong_generalization_split(small_interactions, 60, 60)
