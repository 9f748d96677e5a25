"""The chunked reading gives the same result as reading everything at once."""

import numpy as np
import pytest
from conftest import shared_dataset

from skvaecf.datasets import (
    _assemble,
    _reading,
    load_lastfm,
    load_movielens,
    load_msd,
    load_netflix,
)


@pytest.fixture
def tiny_chunks(monkeypatch):
    """Parse 3 lines per chunk and encode ids every 2 records."""
    monkeypatch.setattr(_reading, "CHUNK_ROWS", 3)
    monkeypatch.setattr(_assemble.InteractionCollector, "flush_rows", 2)


def assert_same(left, right):
    assert (left.X != right.X).nnz == 0
    np.testing.assert_array_equal(left.user_ids, right.user_ids)
    np.testing.assert_array_equal(left.item_ids, right.item_ids)
    if left.timestamps is not None:
        assert (left.timestamps != right.timestamps).nnz == 0


def test_netflix_movie_blocks_across_chunks(tmp_path, monkeypatch):
    path = tmp_path / "combined_data_1.txt"
    path.write_text("3:\n7,1,2005-01-01\n5,2,2005-01-02\n1,3,2005-01-03\n9,4,2005-01-04\n"
                    "4:\n5,5,2005-01-05\n8:\n1,1,2005-01-06\n")
    whole = load_netflix(path)

    monkeypatch.setattr(_reading, "CHUNK_ROWS", 2)
    assert_same(load_netflix(path), whole)
    np.testing.assert_array_equal(whole.item_ids, [3, 4, 8])
    assert whole.n_interactions == 6


def test_netflix_decreasing_movie_across_chunks_is_caught(tmp_path, monkeypatch):
    path = tmp_path / "combined_data_1.txt"
    path.write_text("3:\n7,1,2005-01-01\n2:\n5,2,2005-01-02\n")
    monkeypatch.setattr(_reading, "CHUNK_ROWS", 2)

    with pytest.raises(ValueError, match="neither a rating"):
        load_netflix(path)


def test_string_ids_across_chunks(tmp_path, tiny_chunks):
    lines = [f"user{u % 4}\tSONG{(u * 7) % 5}\t{u + 1}" for u in range(11)]
    path = tmp_path / "train_triplets.txt"
    path.write_text("\n".join(lines) + "\n")

    data = load_msd(path)

    np.testing.assert_array_equal(data.user_ids, ["user0", "user1", "user2", "user3"])
    np.testing.assert_array_equal(data.item_ids, [f"SONG{i}" for i in range(5)])
    for line in lines:
        user, song, count = line.split("\t")
        assert data.X[data.user_index([user])[0], data.item_index([song])[0]] == float(count)


def test_missing_field_reports_the_row_of_the_whole_file(tmp_path, tiny_chunks):
    path = tmp_path / "user_artists.dat"
    path.write_text("userID\tartistID\tweight\n" + "2\t51\t7\n" * 7 + "2\t52\n")

    with pytest.raises(ValueError, match="data row 8 has missing"):
        load_lastfm(path)


def test_real_movielens_100k_in_small_chunks(monkeypatch):
    folder = shared_dataset("ml-100k")
    whole = load_movielens(folder)

    monkeypatch.setattr(_reading, "CHUNK_ROWS", 7919)
    monkeypatch.setattr(_assemble.InteractionCollector, "flush_rows", 5000)
    assert_same(load_movielens(folder), whole)
