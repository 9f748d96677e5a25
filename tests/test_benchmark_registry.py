"""Specification of the model registry of the benchmark: models by name, imported lazily."""

import math

import pytest

import skvaecf.models
from skvaecf.base import BaseRecommender
from skvaecf.benchmark import ModelUnavailableError, available_models, get_model_spec
from skvaecf.benchmark.registry import KNOWN_MODELS, ModelSpec
from skvaecf.benchmark.runner import ANNEAL_FRACTION, _estimator_params, _RunContext
from skvaecf.models._training import MultVAEObjective

EXPECTED_CLASSES = {"multvae": "MultVAERecommender",
                    "anchoredvae": "AnchoredVAERecommender", "ease": "EASERecommender",
                    "als": "ALSRecommender", "popularity": "PopularityRecommender"}


@pytest.mark.parametrize("name", sorted(EXPECTED_CLASSES))
def test_each_model_of_the_package_is_found_by_its_name(name):
    spec = get_model_spec(name)
    assert spec.estimator_class().__name__ == EXPECTED_CLASSES[name]
    assert name in available_models()


def test_names_are_case_insensitive():
    assert get_model_spec("  MultVAE ").name == "multvae"


def test_an_unknown_name_is_rejected_with_the_valid_names():
    with pytest.raises(ValueError, match="unknown model 'vae'.*ease.*multvae"):
        get_model_spec("vae")


def test_a_model_that_cannot_be_imported_says_which_and_why():
    spec = ModelSpec("ghost", "skvaecf.models.ghost:GhostRecommender")
    with pytest.raises(ModelUnavailableError, match="'ghost'.*skvaecf.models.ghost"):
        spec.estimator_class()


def test_an_unimportable_known_model_is_left_out_of_the_available_ones(monkeypatch):
    ghost = ModelSpec("ghost", "skvaecf.models.ghost:GhostRecommender")
    monkeypatch.setitem(KNOWN_MODELS, "ghost", ghost)
    assert "ghost" not in available_models()
    with pytest.raises(ModelUnavailableError):
        get_model_spec("ghost")


def test_a_new_recommender_exported_by_the_models_package_appears_by_itself(monkeypatch):
    class NoveltyRecommender(BaseRecommender):
        def __init__(self, n_recommendations=10):
            self.n_recommendations = n_recommendations

    NoveltyRecommender.__module__ = "skvaecf.models"
    monkeypatch.setattr(skvaecf.models, "NoveltyRecommender", NoveltyRecommender,
                        raising=False)
    monkeypatch.setattr(skvaecf.models, "__all__",
                        [*skvaecf.models.__all__, "NoveltyRecommender"])

    assert get_model_spec("novelty").estimator_class() is NoveltyRecommender
    assert "novelty" in available_models()


def _context(epochs=10, n_train_users=1000):
    return _RunContext(epochs=epochs, device="cpu", seed=3, progress=False,
                       n_train_users=n_train_users)


def test_vae_models_get_the_run_epochs_device_seed_and_paper_architecture():
    spec = get_model_spec("multvae")
    params = _estimator_params(spec, spec.estimator_class(), _context(), {})
    assert params["epochs"] == 10 and params["device"] == "cpu"
    assert params["random_state"] == 3
    assert params["hidden_dims"] == (600,) and params["latent_dim"] == 200


def test_the_kl_weight_reaches_its_cap_at_the_planned_fraction_of_training():
    spec = get_model_spec("multvae")
    params = _estimator_params(spec, spec.estimator_class(), _context(10, 1000), {})
    total_steps = 10 * math.ceil(1000 / params["batch_size"])
    objective = MultVAEObjective(params["beta"], params["anneal_steps"], 0.5)

    cap_step = ANNEAL_FRACTION * total_steps
    assert objective.beta_at(int(cap_step) - 2) < params["beta"]
    assert objective.beta_at(math.ceil(cap_step) + 1) == pytest.approx(params["beta"])


def test_parameters_set_by_the_user_win_over_the_benchmark_defaults():
    spec = get_model_spec("multvae")
    params = _estimator_params(spec, spec.estimator_class(), _context(),
                               {"anneal_steps": 7, "latent_dim": 16})
    assert params["anneal_steps"] == 7 and params["latent_dim"] == 16


def test_models_without_epochs_get_only_the_parameters_they_have():
    spec = get_model_spec("popularity")
    assert _estimator_params(spec, spec.estimator_class(), _context(), {}) == {}
