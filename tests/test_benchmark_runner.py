"""Specification of a benchmark run: what is fitted, chosen, measured and kept."""

import logging

import numpy as np
import pytest
import torch

from _benchmark_settings import TINY_DATA, TINY_PARAMS
from skvaecf import MultVAERecommender
from skvaecf.benchmark import BenchmarkConfig, run_benchmark, runner
from skvaecf.benchmark.measure import PeakMemory

ALL_MODELS = ["multvae", "anchoredvae", "ease", "als", "popularity"]
METRICS = ["recall@20", "recall@50", "ndcg@100"]


def tiny_config(**settings):
    settings.setdefault("models", ALL_MODELS)
    params = {name: dict(TINY_PARAMS[name]) for name in settings["models"]
              if name in TINY_PARAMS}
    for name, extra in settings.pop("params", {}).items():
        params.setdefault(name, {}).update(extra)
    return BenchmarkConfig(**{**TINY_DATA, "params": params, "epochs": 2, "device": "cpu",
                              "threads": 1, **settings})


@pytest.fixture(scope="module")
def report():
    return run_benchmark(tiny_config())


def _model(report, name):
    return next(model for model in report.models if model["model"] == name)


def test_every_model_finishes_with_test_metrics_and_costs(report):
    assert [model["model"] for model in report.models] == ALL_MODELS
    for model in report.models:
        assert model["status"] == "finished"
        seed = model["seeds"][0]
        assert sorted(seed["test"]) == sorted(METRICS)
        assert all(0.0 <= value <= 1.0 for value in seed["test"].values())
        assert seed["fit_seconds"] > 0 and seed["fit_cpu_seconds"] >= 0
        assert seed["users_per_second"] > 0
        assert seed["n_test_users"] == report.dataset["split"]["n_test_users"]
        assert seed["peak_host_mib"] >= 0 and seed["peak_gpu_mib"] is None


@pytest.mark.parametrize("name", ["multvae", "anchoredvae"])
def test_vae_models_report_their_epochs_and_validation_curve(report, name):
    seed = _model(report, name)["seeds"][0]
    assert seed["epochs_run"] == 2 and len(seed["validation_curve"]) == 2
    assert seed["validation_curve"][seed["best_epoch"] - 1] == max(seed["validation_curve"])
    assert seed["validation_ndcg@100"] == pytest.approx(max(seed["validation_curve"]))
    assert seed["seconds_per_epoch"] > 0


def test_the_grid_candidate_with_the_best_validation_score_is_evaluated(report):
    seed = _model(report, "ease")["seeds"][0]
    assert [entry["params"]["l2"] for entry in seed["tuning"]] == [50.0, 200.0, 500.0, 2000.0]
    best = max(seed["tuning"], key=lambda entry: entry["validation_ndcg@100"])
    assert seed["params"]["l2"] == best["params"]["l2"]
    assert seed["tuning_seconds"] >= seed["fit_seconds"]


def test_a_parameter_with_several_candidates_is_noted_as_chosen_on_validation(report):
    assert _model(report, "ease")["note"] == "l2 chosen on validation NDCG@100"


@pytest.mark.parametrize("settings", [{"params": {"ease": {"l2": 7}}},
                                      {"grid": {"ease": {"l2": [7]}}}],
                         ids=["parameter", "grid of one value"])
def test_a_value_given_by_the_user_is_noted_as_fixed_by_the_user(settings):
    ease = run_benchmark(tiny_config(models=["ease"], **settings)).models[0]
    assert ease["status"] == "finished" and ease["seeds"][0]["params"]["l2"] == 7
    assert ease["note"] == "fixed by the user: l2=7"


def test_a_value_that_replaces_a_benchmark_setting_is_noted_with_both():
    config = tiny_config(models=["als"], params={"als": {"alpha": 5.0}},
                         grid={"als": {"regularization": [10.0, 100.0]}})
    note = run_benchmark(config).models[0]["note"]
    assert note.endswith("regularization chosen on validation NDCG@100; fixed by the user: "
                         "factors=4, iterations=2, alpha=5.0 (benchmark: 10.0)")


def test_the_report_records_the_resolved_settings_and_the_machine(report):
    assert report.settings["epochs"] == 2 and report.settings["device"] == "cpu"
    assert report.settings["models"] == ALL_MODELS
    assert report.environment["torch_threads"] == 1
    assert report.dataset["split"]["n_train_users"] > 0
    assert not report.interrupted and report.finished


def test_several_seeds_give_means_and_standard_deviations():
    report = run_benchmark(tiny_config(models=["popularity"], seeds=3))
    model = report.models[0]
    values = [seed["test"]["ndcg@100"] for seed in model["seeds"]]
    assert [seed["seed"] for seed in model["seeds"]] == [0, 1, 2]
    assert model["summary"]["test"]["ndcg@100"] == pytest.approx(np.mean(values))
    assert model["summary"]["test_std"]["ndcg@100"] == pytest.approx(np.std(values, ddof=1))


def test_a_failing_model_is_recorded_and_the_others_still_run():
    config = tiny_config(models=["ease", "popularity"], params={"ease": {"max_memory": 1}})
    report = run_benchmark(config)
    ease, popularity = report.models
    assert ease["status"] == "failed" and "MemoryError" in ease["error"]
    assert popularity["status"] == "finished"


@pytest.mark.parametrize("table", ["params", "grid"])
def test_a_value_the_model_would_reject_is_refused_before_running(monkeypatch, table):
    monkeypatch.setattr(runner, "load_benchmark_data", _fail_if_called)
    values = {"l2": -1.0} if table == "params" else {"l2": [100.0, -1.0]}
    config = tiny_config(models=["ease"], **{table: {"ease": values}})
    with pytest.raises(ValueError, match="model 'ease': The 'l2' parameter"):
        run_benchmark(config)


def test_a_split_that_cannot_be_made_is_a_data_error_not_a_model_failure():
    config = tiny_config(models=["popularity"], n_validation_users=300, n_test_users=300)
    with pytest.raises(ValueError, match="leaves no training user"):
        run_benchmark(config)


def test_few_test_users_and_a_recall_over_the_whole_catalogue_are_warned(caplog):
    config = tiny_config(models=["popularity"], n_test_users=10,
                         metrics=("recall@100", "ndcg@100"))
    with caplog.at_level(logging.WARNING, logger="skvaecf.benchmark"):
        report = run_benchmark(config)
    assert report.models[0]["status"] == "finished"
    assert "only 10 test users" in caplog.text
    assert "recall@100 cover(s) the whole catalogue" in caplog.text
    assert "ndcg@100 cover" not in caplog.text


def test_the_first_model_is_not_charged_for_torch_start_up(monkeypatch):
    warmed = []
    monkeypatch.setattr(runner, "_warm_up", lambda device: warmed.append(device))
    measured = []
    original = runner._fit_and_validate

    def record(*args, **kwargs):
        measured.append(list(warmed))
        return original(*args, **kwargs)

    monkeypatch.setattr(runner, "_fit_and_validate", record)
    run_benchmark(tiny_config(models=["popularity"]))
    assert measured == [["cpu"]]


def _fail_if_called(*args, **kwargs):
    raise AssertionError("the data was loaded before the parameters were checked")


def test_a_parameter_the_model_does_not_have_is_rejected_before_running():
    config = tiny_config(models=["ease"], params={"ease": {"l3": 1.0}})
    with pytest.raises(ValueError, match="no parameter l3"):
        run_benchmark(config)


def test_settings_for_an_unknown_model_are_rejected():
    config = tiny_config(models=["ease"], grid={"wmf": {"factors": [4]}})
    with pytest.raises(ValueError, match="unknown model 'wmf'"):
        run_benchmark(config)


def test_ctrl_c_keeps_the_models_finished_before_it(monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(MultVAERecommender, "fit", interrupt)
    monkeypatch.setattr(runner, "_warm_up", lambda device: None)  # it fits a Mult-VAE too
    seen = []
    report = run_benchmark(tiny_config(models=["popularity", "ease", "multvae"]),
                           on_model_finished=lambda r: seen.append(len(r.models)))

    assert report.interrupted
    assert [model["model"] for model in report.models] == ["popularity", "ease"]
    assert seen == [1, 2]


def test_the_thread_setting_is_restored_after_the_run(monkeypatch):
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    calls = []
    monkeypatch.setattr(torch, "set_num_threads", calls.append)
    run_benchmark(tiny_config(models=["popularity"], threads=1))
    assert calls == [1, 2]


def test_peak_memory_counts_what_is_allocated_inside_only():
    held_before = np.ones(10_000_000)  # 76 MiB, already resident
    with PeakMemory() as peak:
        block = np.ones(25_000_000)  # 191 MiB
        block[::1000] = 2.0
    del block, held_before
    assert 150 * 2**20 < peak.host_bytes < 300 * 2**20
