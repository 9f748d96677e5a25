"""Behaviour specific to AnchoredVAERecommender and its anchor loss."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from skvaecf import AnchoredVAERecommender, MultVAERecommender
from skvaecf.models._network import SparseBatch, VAENetwork
from skvaecf.models.anchored import AnchoredObjective

TINY = dict(hidden_dims=(16,), latent_dim=8, epochs=3, batch_size=32, anneal_steps=5,
            device="cpu")
CPU = torch.device("cpu")


def _objective(n_items=6, latent_dim=3, weight=1.0, warmup=0, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return AnchoredObjective(0.2, 0, 0.5, n_items=n_items, latent_dim=latent_dim,
                             anchor_weight=weight, anchor_warmup_steps=warmup,
                             anchor_init_scale=1.0, generator=generator)


def _batch():
    """Three users with 3, 1 and 0 items (the last one is empty)."""
    X = sp.csr_matrix(np.array([[1, 0, 1, 0, 1, 0],
                                [0, 0, 0, 2, 0, 0],
                                [0, 0, 0, 0, 0, 0]], dtype=np.float32))
    return X, SparseBatch.from_csr(X, CPU)


def test_closed_form_matches_a_monte_carlo_estimate_of_the_expected_distance():
    objective = _objective()
    X, batch = _batch()
    generator = torch.Generator().manual_seed(1)
    mean = torch.randn(3, 3, generator=generator)
    log_var = torch.randn(3, 3, generator=generator) * 0.5

    closed_form = objective.anchor_loss_per_user(batch, mean, log_var).detach()

    for user in range(2):
        noise = torch.randn(200_000, 3, generator=generator, dtype=torch.float64)
        z = mean[user].double() + noise * torch.exp(0.5 * log_var[user].double())
        anchors = objective.anchors.detach().double()[X[user].indices]
        estimate = (z[:, None, :] - anchors[None]).pow(2).sum(dim=2).mean()
        assert float(closed_form[user]) == pytest.approx(float(estimate), rel=1e-2)
    assert float(closed_form[2]) == 0.0


def test_closed_form_equals_the_mean_exact_distance_to_each_anchor():
    objective = _objective()
    X, batch = _batch()
    mean = torch.randn(3, 3, generator=torch.Generator().manual_seed(2))
    log_var = torch.zeros(3, 3)

    loss = objective.anchor_loss_per_user(batch, mean, log_var).detach()

    anchors = objective.anchors.detach()
    for user in range(2):
        items = X[user].indices
        expected = ((mean[user] - anchors[items]).pow(2).sum(dim=1) + 3.0).mean()
        torch.testing.assert_close(loss[user], expected)


def test_anchor_loss_sends_gradients_to_the_encoder_and_to_the_users_anchors():
    objective = _objective(n_items=6, latent_dim=4)
    network = VAENetwork(6, (5,), 4, torch.Generator().manual_seed(0))
    X, batch = _batch()

    mean, log_var = network.encode(batch, 0.5, torch.Generator().manual_seed(0))
    penalty, terms = objective.regularizer(batch, mean, log_var, step=0)
    penalty.backward()

    assert network.encoder[-1].weight.grad.abs().sum() > 0
    assert network.input_weight.grad[[0, 2, 4, 3]].abs().sum() > 0
    anchor_grad = objective.anchors.grad.abs().sum(dim=1)
    assert torch.all(anchor_grad[[0, 2, 3, 4]] > 0)
    assert torch.all(anchor_grad[[1, 5]] == 0)  # items nobody in the batch consumed
    assert terms["anchor"] == pytest.approx(float(penalty.detach()))


def test_warmup_ramps_the_anchor_weight_linearly_then_holds_it():
    objective = _objective(weight=2.0, warmup=10)
    assert [objective.anchor_weight_at(s) for s in (0, 5, 10, 30)] == [0.0, 1.0, 2.0, 2.0]
    assert _objective(weight=2.0, warmup=0).anchor_weight_at(0) == 2.0


def test_zero_anchor_weight_reproduces_mult_vae_exactly(small_interactions):
    anchored = AnchoredVAERecommender(**TINY, anchor_weight=0.0, random_state=3)
    plain = MultVAERecommender(**TINY, random_state=3)
    anchored.fit(small_interactions)
    plain.fit(small_interactions)

    np.testing.assert_array_equal(anchored.decision_function(small_interactions),
                                  plain.decision_function(small_interactions))
    for name in ("loss", "nll", "kl", "val_ndcg@100"):
        assert anchored.history_[name] == plain.history_[name]


def test_positive_anchor_weight_trains_the_anchors_and_changes_the_model(small_interactions):
    untrained = AnchoredVAERecommender(**TINY, anchor_weight=0.0, random_state=3)
    trained = AnchoredVAERecommender(**TINY, anchor_weight=1.0, random_state=3)
    untrained.fit(small_interactions)
    trained.fit(small_interactions)

    assert trained.anchors_.shape == (small_interactions.shape[1], 8)
    assert trained.anchors_.dtype == np.float32
    assert not np.allclose(trained.anchors_, untrained.anchors_)  # untrained = initial values
    assert trained.history_["loss"] != untrained.history_["loss"]


def test_history_records_the_anchor_term_and_its_scheduled_weight(small_interactions):
    model = AnchoredVAERecommender(**TINY, anchor_weight=0.5, anchor_warmup_steps=6,
                                   random_state=0).fit(small_interactions)

    assert len(model.history_["anchor"]) == 3
    assert all(np.isfinite(v) and v > 0 for v in model.history_["anchor"])
    weights = model.history_["anchor_weight"]
    assert weights[0] < weights[1] and weights[-1] == pytest.approx(0.5)


def test_prediction_does_not_use_the_anchors(small_interactions):
    model = AnchoredVAERecommender(**TINY, random_state=0).fit(small_interactions)
    before = model.decision_function(small_interactions[:5])
    model.anchors_ = np.zeros_like(model.anchors_)
    np.testing.assert_array_equal(model.decision_function(small_interactions[:5]), before)


def test_pickled_model_keeps_its_anchors_and_scores(small_interactions):
    model = AnchoredVAERecommender(**TINY, random_state=0).fit(small_interactions)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.anchors_, model.anchors_)
    np.testing.assert_array_equal(restored.decision_function(small_interactions[:5]),
                                  model.decision_function(small_interactions[:5]))


@pytest.mark.parametrize("name, value", [("anchor_weight", -1.0),
                                         ("anchor_warmup_steps", -1),
                                         ("anchor_warmup_steps", 2.5),
                                         ("anchor_init_scale", -0.1)])
def test_invalid_anchor_parameters_are_rejected_at_fit(small_interactions, name, value):
    model = AnchoredVAERecommender(**TINY, **{name: value})
    with pytest.raises(ValueError, match=name):
        model.fit(small_interactions)
