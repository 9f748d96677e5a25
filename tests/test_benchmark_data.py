"""Specification of the benchmark's data: loading by name or path, preprocessing, splits."""

import numpy as np
import pytest

from conftest import shared_dataset
from skvaecf.benchmark import BenchmarkConfig
from skvaecf.benchmark.data import guess_format, load_benchmark_data, split_benchmark_data


def _write(path, text):
    path.write_text(text)
    return path


def _ratings_csv(folder):
    # user 1 rates five items 4 or more and one item 3; user 2 has only three clicks.
    lines = ["user,item,rating"]
    lines += [f"1,{item},{4 + item % 2}" for item in range(5)] + ["1,9,3"]
    lines += [f"2,{item},5" for item in range(3)]
    lines += [f"{user},{item},4" for user in range(3, 8) for item in range(5)]
    return _write(folder / "ratings.csv", "\n".join(lines) + "\n")


def test_ratings_below_min_rating_do_not_become_clicks(tmp_path):
    data = load_benchmark_data(BenchmarkConfig(dataset=str(_ratings_csv(tmp_path)),
                                               format="csv"))
    assert data.X.shape == (6, 5)  # item 9 had a rating of 3 only
    assert set(np.unique(data.X.data)) == {1.0}


def test_users_with_fewer_clicks_than_the_minimum_are_removed(tmp_path):
    path = str(_ratings_csv(tmp_path))
    assert load_benchmark_data(BenchmarkConfig(dataset=path)).X.shape[0] == 6
    relaxed = BenchmarkConfig(dataset=path, min_user_interactions=3)
    assert load_benchmark_data(relaxed).X.shape[0] == 7


def test_min_rating_is_inclusive(tmp_path):
    path = str(_ratings_csv(tmp_path))
    data = load_benchmark_data(BenchmarkConfig(dataset=path, min_rating=3,
                                               min_user_interactions=1))
    assert data.X.shape[1] == 6


def test_every_preprocessing_step_is_recorded(tmp_path):
    data = load_benchmark_data(BenchmarkConfig(dataset=str(_ratings_csv(tmp_path))))
    assert data.steps[1] == "ratings >= 4 kept as clicks"
    assert data.describe()["n_users"] == 6


@pytest.mark.parametrize("file_name, layout", [
    ("u.data", "movielens"), ("ratings.dat", "movielens"), ("user_artists.dat", "lastfm"),
    ("train_triplets.txt", "msd"), ("train.txt", "lists"), ("clicks.csv", "csv")])
def test_the_layout_is_guessed_from_the_file_name(tmp_path, file_name, layout):
    assert guess_format(_write(tmp_path / file_name, "")) == layout
    if layout != "csv":
        assert guess_format(tmp_path) == layout


def test_an_unrecognised_file_asks_for_the_format(tmp_path):
    with pytest.raises(ValueError, match="give the format"):
        guess_format(_write(tmp_path / "log.bin", ""))


def test_a_missing_path_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="neither a known name"):
        load_benchmark_data(BenchmarkConfig(dataset=str(tmp_path / "nothing")))


def test_a_named_dataset_missing_from_the_cache_is_not_downloaded_when_told(tmp_path):
    config = BenchmarkConfig(dataset="ml-100k", data_home=str(tmp_path), download=False)
    with pytest.raises(FileNotFoundError, match="download_if_missing=False"):
        load_benchmark_data(config)


def test_the_synthetic_data_are_the_same_in_every_run():
    config = BenchmarkConfig(synthetic_users=400, synthetic_items=100)
    first, second = load_benchmark_data(config), load_benchmark_data(config)
    assert (first.X != second.X).nnz == 0


def test_each_seed_draws_its_own_split_of_users():
    data = load_benchmark_data(BenchmarkConfig(synthetic_users=400, synthetic_items=100))
    splits = [split_benchmark_data(data, 20, 20, seed) for seed in (0, 0, 1)]
    assert np.array_equal(splits[0].test_users, splits[1].test_users)
    assert not np.array_equal(splits[0].test_users, splits[2].test_users)


def _lightgcn_folder(folder):
    _write(folder / "train.txt", "0 0 1 2 3 4\n1 1 2 3 4 5\n2 0 2 4 5 6\n3 0 1 5 6 7\n")
    _write(folder / "test.txt", "0 5\n1 6\n2 7\n3 8\n")
    return folder


def test_a_given_train_test_split_is_used_as_published(tmp_path):
    data = load_benchmark_data(BenchmarkConfig(dataset=str(_lightgcn_folder(tmp_path))))
    split = split_benchmark_data(data, 1, None, seed=0)

    assert data.X.shape == (4, 9)  # item 8 only occurs in test.txt
    assert split.test_fold_in.shape[0] == 4
    assert (split.test_fold_in != data.X).nnz == 0
    assert (split.test_held_out != data.test).nnz == 0


def test_validation_clicks_of_a_given_split_are_hidden_from_training(tmp_path):
    data = load_benchmark_data(BenchmarkConfig(dataset=str(_lightgcn_folder(tmp_path))))
    split = split_benchmark_data(data, 2, None, seed=0)

    held_out = split.validation_held_out
    assert held_out.nnz == 2  # one of the five clicks of each validation user
    rows = split.train[split.validation_users]
    assert rows.multiply(held_out).nnz == 0
    assert rows.nnz + held_out.nnz == data.X[split.validation_users].nnz


def test_real_movielens_is_read_from_a_folder_path():
    folder = shared_dataset("ml-100k")
    data = load_benchmark_data(BenchmarkConfig(dataset=str(folder)))
    assert data.source.endswith("(movielens layout)")
    assert data.X.shape[0] <= 943 and data.X.nnz < 100_000
