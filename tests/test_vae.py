"""Behaviour specific to MultVAERecommender."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone

from conftest import shared_dataset
from skvaecf import MultVAERecommender
from skvaecf.metrics import evaluate_recommender
from skvaecf.model_selection import strong_generalization_split
from skvaecf.models._network import SparseBatch

TINY = dict(hidden_dims=(16,), latent_dim=8, epochs=3, batch_size=32, anneal_steps=0,
            device="cpu")


def test_same_random_state_gives_the_same_model(small_interactions):
    a = MultVAERecommender(**TINY, random_state=1).fit(small_interactions)
    b = MultVAERecommender(**TINY, random_state=1).fit(small_interactions)
    c = MultVAERecommender(**TINY, random_state=2).fit(small_interactions)
    np.testing.assert_array_equal(a.decision_function(small_interactions),
                                  b.decision_function(small_interactions))
    assert a.history_["loss"] == b.history_["loss"]
    assert not np.allclose(a.decision_function(small_interactions),
                           c.decision_function(small_interactions))


def test_fit_leaves_the_global_random_generators_alone(small_interactions):
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    MultVAERecommender(**TINY, random_state=0).fit(small_interactions)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], numpy_state[1])


def test_sparse_first_layer_equals_the_dense_computation(small_interactions):
    model = MultVAERecommender(**TINY, random_state=0).fit(small_interactions)
    network = model.network_
    X = small_interactions[:10]
    mean, _ = network.encode(SparseBatch.from_csr(X, torch.device("cpu")))

    dense = torch.from_numpy(X.toarray())
    dense = dense / dense.norm(dim=1, keepdim=True)
    hidden = dense @ network.input_weight + network.input_bias
    expected = network.encoder[0](torch.tanh(hidden))[:, :8]
    torch.testing.assert_close(mean, expected)


def test_validation_data_keeps_the_epoch_with_the_best_ndcg(small_interactions):
    split = strong_generalization_split(small_interactions, 30, 10, random_state=0)
    model = MultVAERecommender(**{**TINY, "epochs": 6}, random_state=0)
    model.fit(split.train, validation_data=split.validation_data)

    curve = model.history_["val_ndcg@100"]
    assert len(curve) == 6
    assert model.best_epoch_ == int(np.argmax(curve)) + 1
    assert model.best_score_ == max(curve)
    again = evaluate_recommender(model, *split.validation_data, ["ndcg@100"])["ndcg@100"]
    assert again == pytest.approx(model.best_score_)


def test_patience_stops_training_early(small_interactions):
    split = strong_generalization_split(small_interactions, 30, 10, random_state=0)
    model = MultVAERecommender(**{**TINY, "epochs": 50, "learning_rate": 0.3}, patience=2,
                               random_state=0)
    model.fit(split.train, validation_data=split.validation_data)
    assert len(model.history_["epoch"]) < 50
    assert len(model.history_["epoch"]) == model.best_epoch_ + 2


def test_default_fit_sets_aside_validation_users(small_interactions):
    model = MultVAERecommender(**TINY, random_state=0).fit(small_interactions)
    assert "val_ndcg@100" in model.history_
    assert 1 <= model.best_epoch_ <= 3


def test_validation_fraction_none_keeps_the_last_epoch(small_interactions):
    model = MultVAERecommender(**TINY, validation_fraction=None, random_state=0)
    model.fit(small_interactions)
    assert "val_ndcg@100" not in model.history_
    assert model.best_epoch_ == 3 and np.isnan(model.best_score_)


def test_too_few_users_for_validation_warns_and_trains_on_all(small_interactions):
    with pytest.warns(UserWarning, match="validation"):
        model = MultVAERecommender(**TINY, random_state=0).fit(small_interactions[:4])
    assert model.best_epoch_ == 3


def test_beta_is_annealed_linearly_to_its_cap(small_interactions):
    model = MultVAERecommender(**{**TINY, "epochs": 6, "anneal_steps": 16}, beta=1.0,
                               validation_fraction=None, random_state=0)
    model.fit(small_interactions)  # 120 users / 32 = 4 steps an epoch
    betas = model.history_["beta"]
    assert betas[0] < betas[1] < betas[2] and betas[-1] == pytest.approx(1.0)


@pytest.mark.parametrize("params, name", [
    ({"dropout": -0.1}, "dropout"), ({"dropout": 1.0}, "dropout"),
    ({"latent_dim": 0}, "latent_dim"), ({"epochs": 0}, "epochs"),
    ({"learning_rate": 0.0}, "learning_rate"), ({"hidden_dims": (16, 0)}, "hidden_dims"),
    ({"hidden_dims": 600}, "hidden_dims"), ({"validation_fraction": 1.5}, "validation_fraction"),
    ({"beta": -1}, "beta"),
])
def test_impossible_parameters_are_rejected_at_fit(small_interactions, params, name):
    model = MultVAERecommender(**{**TINY, **params})
    with pytest.raises(ValueError, match=name):
        model.fit(small_interactions)


def test_training_that_diverges_stops_with_a_clear_error(small_interactions):
    model = MultVAERecommender(**{**TINY, "learning_rate": 1e6, "validation_fraction": None},
                               random_state=0)
    with pytest.raises(ValueError, match="training diverged.*learning_rate"):
        model.fit(small_interactions)


def test_nan_scores_are_refused_rather_than_ranked(small_interactions):
    model = MultVAERecommender(**TINY, random_state=0).fit(small_interactions)
    with torch.no_grad():
        model.network_.decoder[-1].bias.fill_(float("nan"))
    with pytest.raises(ValueError, match="NaN scores"):
        model.recommend(small_interactions[:3], k=5)


def test_unavailable_device_is_rejected(small_interactions):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="CUDA is not available"):
        MultVAERecommender(**{**TINY, "device": "cuda"}).fit(small_interactions)


@pytest.mark.parametrize("device", ["meta", "mps"])
def test_device_types_other_than_cpu_and_cuda_are_rejected(small_interactions, device):
    with pytest.raises(ValueError, match=f"device='{device}' is not supported"):
        MultVAERecommender(**{**TINY, "device": device}).fit(small_interactions)


def test_auto_device_is_resolved_and_recorded(small_interactions):
    model = MultVAERecommender(**{**TINY, "device": "auto"}, random_state=0)
    model.fit(small_interactions)
    assert model.device == "auto"
    assert model.device_ == ("cuda" if torch.cuda.is_available() else "cpu")


def test_a_model_recorded_as_gpu_trained_predicts_on_a_cpu_only_machine(small_interactions):
    if torch.cuda.is_available():
        pytest.skip("this simulates a machine without CUDA")
    model = MultVAERecommender(**TINY, random_state=0).fit(small_interactions)
    expected = model.decision_function(small_interactions[:3])
    model.device_ = "cuda"
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.decision_function(small_interactions[:3]), expected)


def test_pickled_state_holds_cpu_tensors_only(small_interactions):
    model = MultVAERecommender(**TINY, random_state=0).fit(small_interactions)
    state = model.__getstate__()
    assert all(p.device.type == "cpu" for p in state["network_"].parameters())


def test_verbose_shows_a_progress_bar(small_interactions, capsys):
    MultVAERecommender(**TINY, verbose=True, random_state=0).fit(small_interactions)
    assert "MultVAERecommender" in capsys.readouterr().err


def test_encode_returns_posterior_means_and_positive_variances(small_interactions):
    model = MultVAERecommender(**TINY, random_state=0).fit(small_interactions)
    mean, variance = model.encode(small_interactions[:5])
    assert mean.shape == variance.shape == (5, 8)
    assert np.all(variance > 0)


def test_counts_are_accepted_as_multinomial_counts(small_interactions):
    counts = small_interactions * 4.0
    model = clone(MultVAERecommender(**TINY, random_state=0)).fit(counts)
    assert model.recommend(counts[:2], k=3).shape == (2, 3)


def test_learns_better_than_popularity_on_movielens_100k():
    from skvaecf.datasets import load_movielens

    data = load_movielens(shared_dataset("ml-100k"))
    X = (data.X >= 4).astype(np.float32)
    X = X[np.diff(X.indptr) >= 5]
    split = strong_generalization_split(X, 100, 100, random_state=0)

    model = MultVAERecommender(hidden_dims=(200,), latent_dim=64, epochs=30, anneal_steps=300,
                               batch_size=100, device="cpu", random_state=0)
    model.fit(split.train, validation_data=split.validation_data)
    vae = evaluate_recommender(model, split.test_fold_in, split.test_held_out, ["ndcg@100"])

    popularity = np.asarray(split.train.sum(axis=0)).ravel()
    scores = np.where(split.test_fold_in.toarray() > 0, -np.inf, popularity)
    from skvaecf.metrics import ndcg_at_k
    baseline = ndcg_at_k(split.test_held_out, scores, k=100)
    assert vae["ndcg@100"] > baseline + 0.02
