"""partial_fit of the VAE recommenders: one more epoch per call, as pruned searches need."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from skvaecf import AnchoredVAERecommender, MultVAERecommender, strong_generalization_split

TINY = dict(hidden_dims=(16,), latent_dim=8, anneal_steps=5, batch_size=32, device="cpu",
            random_state=0)
VAES = [MultVAERecommender(**TINY), AnchoredVAERecommender(**TINY, anchor_weight=1.0)]
parametrize_vaes = pytest.mark.parametrize("estimator", VAES,
                                           ids=[type(e).__name__ for e in VAES])


def _train_by_epochs(estimator, X, n_epochs, **kwargs):
    model = clone(estimator)
    for _ in range(n_epochs):
        model.partial_fit(X, **kwargs)
    return model


def _assert_same_weights(a, b):
    for name, value in a.network_.state_dict().items():
        torch.testing.assert_close(value, b.network_.state_dict()[name], rtol=0, atol=0)


@parametrize_vaes
def test_repeated_partial_fit_gives_the_model_of_fit(estimator, small_interactions):
    by_epochs = _train_by_epochs(estimator, small_interactions, 3)
    fitted = clone(estimator).set_params(epochs=3, validation_fraction=None)
    fitted.fit(small_interactions)

    _assert_same_weights(by_epochs, fitted)
    assert by_epochs.history_["loss"] == fitted.history_["loss"]
    assert by_epochs.n_steps_ == fitted.n_steps_
    if hasattr(fitted, "anchors_"):
        np.testing.assert_array_equal(by_epochs.anchors_, fitted.anchors_)


def test_each_call_trains_one_more_epoch(small_interactions):
    model = clone(VAES[0]).partial_fit(small_interactions)
    assert model.n_features_in_ == small_interactions.shape[1]
    assert model.history_["epoch"] == [1.0] and model.best_epoch_ == 1
    steps_per_epoch = model.n_steps_

    model.partial_fit(small_interactions)
    assert model.history_["epoch"] == [1.0, 2.0] and model.best_epoch_ == 2
    assert model.n_steps_ == 2 * steps_per_epoch


def test_calls_may_train_on_different_users(small_interactions):
    model = clone(VAES[0]).partial_fit(small_interactions[:60])
    model.partial_fit(small_interactions[60:])
    assert model.n_steps_ == 4  # two batches of 32 users per call


def test_validation_is_recorded_but_the_latest_weights_are_kept(small_interactions):
    split = strong_generalization_split(small_interactions, 30, 10, random_state=0)
    watched = _train_by_epochs(VAES[0], split.train, 4, validation_data=split.validation_data)
    unwatched = _train_by_epochs(VAES[0], split.train, 4)

    curve = watched.history_["val_ndcg@100"]
    assert len(curve) == 4
    assert watched.best_epoch_ == int(np.argmax(curve)) + 1
    assert watched.best_score_ == max(curve)
    _assert_same_weights(watched, unwatched)


def test_a_later_call_with_other_items_is_rejected(small_interactions):
    model = clone(VAES[0]).partial_fit(small_interactions)
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(small_interactions[:, :-1])


def test_the_first_call_validates_the_parameters(small_interactions):
    with pytest.raises(InvalidParameterError, match="dropout"):
        clone(VAES[0]).set_params(dropout=1.5).partial_fit(small_interactions)


def test_an_all_zero_matrix_is_rejected(small_interactions):
    model = clone(VAES[0]).partial_fit(small_interactions)
    with pytest.raises(ValueError, match="no interactions"):
        model.partial_fit(small_interactions * 0.0)


def test_fit_after_partial_fit_starts_afresh(small_interactions):
    model = _train_by_epochs(VAES[0], small_interactions, 2)
    model.set_params(epochs=1, validation_fraction=None).fit(small_interactions)
    fresh = clone(model).fit(small_interactions)
    _assert_same_weights(model, fresh)

    with pytest.warns(UserWarning, match="partial_fit after fit starts a new"):
        model.partial_fit(small_interactions)
    assert model.history_["epoch"] == [1.0]


def test_only_the_first_partial_fit_after_fit_warns(small_interactions):
    model = clone(VAES[0]).set_params(epochs=1, validation_fraction=None)
    model.fit(small_interactions)
    with pytest.warns(UserWarning):
        model.partial_fit(small_interactions)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.partial_fit(small_interactions)
    assert model.history_["epoch"] == [1.0, 2.0]


def test_a_pickled_model_keeps_one_cpu_copy_of_the_network(small_interactions):
    state = _train_by_epochs(VAES[1], small_interactions, 2).__getstate__()
    checkpoint = state["_training_state"]
    assert all(p.device.type == "cpu" for p in state["network_"].parameters())
    assert all(p.device.type == "cpu" for p in checkpoint.objective.parameters())
    assert not any(isinstance(value, torch.nn.Module) and value is not checkpoint.objective
                   for value in vars(checkpoint).values())


def test_a_pickled_model_predicts_and_resumes_training_as_if_uninterrupted(
        small_interactions):
    interrupted = _train_by_epochs(VAES[1], small_interactions, 2)
    restored = pickle.loads(pickle.dumps(interrupted))
    np.testing.assert_array_equal(restored.decision_function(small_interactions[:5]),
                                  interrupted.decision_function(small_interactions[:5]))

    restored.partial_fit(small_interactions)
    _assert_same_weights(restored, _train_by_epochs(VAES[1], small_interactions, 3))


def test_resuming_on_another_kind_of_device_warns(small_interactions):
    if torch.cuda.is_available():
        pytest.skip("this simulates a machine without CUDA")
    restored = pickle.loads(pickle.dumps(_train_by_epochs(VAES[0], small_interactions, 1)))
    restored._training_state.device = "cuda"  # as if trained on a GPU
    with pytest.warns(UserWarning, match="random stream"):
        restored.partial_fit(small_interactions)
    assert restored.history_["epoch"] == [1.0, 2.0]
