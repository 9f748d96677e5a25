"""Tests of load_movielens on generated files in every official layout and on real files."""

import logging
import time

import numpy as np
import pytest
from conftest import shared_dataset

from skvaecf.datasets import load_movielens

# Three users, three movies; user 10 rated movie 2 twice in the "repeats" variants.
RECORDS = [(1, 5, 4.0, 978300760), (1, 2, 3.5, 978302109), (10, 2, 5.0, 978301968),
           (2, 31, 1.0, 978300275)]
EXPECTED = np.array([[3.5, 4.0, 0.0], [0.0, 0.0, 1.0], [5.0, 0.0, 0.0]], dtype=np.float32)


def write_u_data(folder, records=RECORDS):
    lines = [f"{u}\t{i}\t{int(r)}\t{t}" for u, i, r, t in records]
    path = folder / "u.data"
    path.write_text("\n".join(lines) + "\n")
    return path


def write_ratings_dat(folder, records=RECORDS):
    lines = [f"{u}::{i}::{r:g}::{t}" for u, i, r, t in records]
    path = folder / "ratings.dat"
    path.write_text("\n".join(lines) + "\n")
    return path


def write_ratings_csv(folder, records=RECORDS):
    lines = ["userId,movieId,rating,timestamp"] + [f"{u},{i},{r},{t}" for u, i, r, t in records]
    path = folder / "ratings.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("write", [write_ratings_dat, write_ratings_csv])
def test_each_layout_gives_the_same_matrix(tmp_path, write):
    data = load_movielens(write(tmp_path))

    np.testing.assert_array_equal(data.X.toarray(), EXPECTED)
    np.testing.assert_array_equal(data.user_ids, [1, 2, 10])
    np.testing.assert_array_equal(data.item_ids, [2, 5, 31])
    assert data.timestamps[0, 1] == 978300760
    assert data.timestamps[2, 0] == 978301968


def test_u_data_layout_with_integer_ratings(tmp_path):
    data = load_movielens(write_u_data(tmp_path))

    assert data.X[0, 0] == 3.0
    assert data.X.shape == (3, 3) and data.timestamps is not None


def test_folder_is_searched_for_a_ratings_file(tmp_path):
    write_ratings_dat(tmp_path)
    (tmp_path / "movies.dat").write_text("1::Toy Story (1995)::Animation\n")

    assert load_movielens(tmp_path).n_interactions == 4
    assert load_movielens(tmp_path).name == tmp_path.name


def test_converted_csv_without_timestamps(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("user,item,rating\n1,1,5\n1,48,5\n2,1,3\n")

    data = load_movielens(path)

    assert data.timestamps is None
    np.testing.assert_array_equal(data.X.toarray(), [[5, 5], [3, 0]])


def test_missing_path_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.dat"):
        load_movielens(tmp_path / "nowhere.dat")


def test_a_folder_given_as_a_file_is_named_as_a_folder(tmp_path):
    from skvaecf.datasets import load_csv

    with pytest.raises(FileNotFoundError, match="is a folder; expected a file"):
        load_csv(tmp_path)


def test_folder_without_ratings_lists_expected_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="u.data, ratings.dat, ratings.csv"):
        load_movielens(tmp_path)


@pytest.mark.parametrize(
    "content, message",
    [
        ("userId,itemId,stars\n1,2,3\n", "expected a ratings.csv header"),
        ("1\t2\t3\n", "100K layout"),
        ("1::2::x::4\n", "1M/10M layout"),
        ("1::2::3::4\n5::6::7\n", "1M/10M layout"),
        ("1 2 3 4\n", "expected a MovieLens ratings file"),
    ],
)
def test_wrong_layout_says_what_was_expected(tmp_path, content, message):
    path = tmp_path / "ratings.txt"
    path.write_text(content)

    with pytest.raises(ValueError, match=message) as error:
        load_movielens(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize("policy, expected", [("last", 2.0), ("max", 5.0), ("sum", 7.0)])
def test_repeated_ratings_follow_the_policy(tmp_path, caplog, policy, expected):
    records = [(1, 1, 5.0, 100), (1, 1, 2.0, 200), (2, 1, 3.0, 50)]
    path = write_ratings_dat(tmp_path, records)

    with caplog.at_level(logging.WARNING):
        data = load_movielens(path, duplicates=policy)

    assert data.X[0, 0] == expected
    assert data.n_interactions == 2
    assert "merged 1 repeated" in caplog.text
    assert data.timestamps[0, 0] == (100 if policy == "max" else 200)


def test_repeated_ratings_can_raise(tmp_path):
    path = write_ratings_dat(tmp_path, [(1, 1, 5.0, 100), (1, 1, 2.0, 200)])

    with pytest.raises(ValueError, match="1 records repeat"):
        load_movielens(path, duplicates="raise")
    with pytest.raises(ValueError, match="duplicates must be one of"):
        load_movielens(path, duplicates="first")


def test_infinite_ratings_are_rejected_naming_file_and_count(tmp_path):
    path = tmp_path / "ratings.dat"
    path.write_text("1::10::inf::978300760\n1::11::3::978302109\n2::10::-inf::978301968\n")

    with pytest.raises(ValueError, match=r"ratings.dat: column 'rating' .* 2 of 3 rows"):
        load_movielens(path)


def test_zero_ratings_are_not_counted_as_interactions(tmp_path):
    path = write_ratings_dat(tmp_path, [(1, 1, 0.0, 100), (1, 2, 4.0, 200), (2, 1, 0.0, 300)])

    data = load_movielens(path)

    assert data.n_interactions == 1
    assert data.X.shape == (2, 2)
    assert data.timestamps.nnz == 1


def test_real_movielens_100k():
    data = load_movielens(shared_dataset("ml-100k"))

    assert (data.n_users, data.n_items, data.n_interactions) == (943, 1682, 100_000)
    row, column = data.user_index([196])[0], data.item_index([242])[0]
    assert data.X[row, column] == 3.0
    assert data.timestamps[row, column] == 881250949


def test_real_movielens_1m_loads_in_seconds():
    folder = shared_dataset("ml-1m")

    start = time.perf_counter()
    data = load_movielens(folder)
    elapsed = time.perf_counter() - start

    assert (data.n_users, data.n_items, data.n_interactions) == (6040, 3706, 1_000_209)
    assert data.X.getnnz(axis=1)[data.user_index([4169])[0]] == 2314
    assert elapsed < 5.0


def test_real_movielens_latest_small():
    data = load_movielens(shared_dataset("ml-latest-small"))

    assert (data.n_users, data.n_items, data.n_interactions) == (610, 9724, 100_836)
    assert set(np.unique(data.X.data)) <= set(np.arange(0.5, 5.01, 0.5))
    assert np.count_nonzero(data.X.data >= 4) == 48_580
