"""Tests of the Netflix, MSD, Last.fm, user-item-list and table loaders."""

import logging

import numpy as np
import pandas as pd
import pytest
from conftest import shared_dataset

from skvaecf import PopularityRecommender
from skvaecf.datasets import (
    binarize,
    from_dataframe,
    load_csv,
    load_lastfm,
    load_msd,
    load_netflix,
    load_user_item_lists,
)

MOVIE_1 = "1:\n1488844,3,2005-09-06\n822109,5,2005-05-13\n"
MOVIE_2 = "2:\n822109,4,1970-01-02\n30878,1,2005-12-26\n"
NETFLIX_MATRIX = [[0, 1], [5, 4], [3, 0]]


# --- Netflix -------------------------------------------------------------------------


def test_netflix_training_set_folder(tmp_path):
    training_set = tmp_path / "training_set"
    training_set.mkdir()
    (training_set / "mv_0000001.txt").write_text(MOVIE_1)
    (training_set / "mv_0000002.txt").write_text(MOVIE_2)

    for path in (tmp_path, training_set):
        data = load_netflix(path)
        np.testing.assert_array_equal(data.X.toarray(), NETFLIX_MATRIX)
        np.testing.assert_array_equal(data.user_ids, [30878, 822109, 1488844])
        np.testing.assert_array_equal(data.item_ids, [1, 2])


def test_netflix_combined_data_files_and_dates(tmp_path):
    (tmp_path / "combined_data_1.txt").write_text(MOVIE_1)
    (tmp_path / "combined_data_2.txt").write_text(MOVIE_2)

    data = load_netflix(tmp_path)

    np.testing.assert_array_equal(data.X.toarray(), NETFLIX_MATRIX)
    assert data.timestamps[1, 1] == 86_400
    assert data.timestamps[2, 0] == pd.Timestamp("2005-09-06").timestamp()


def test_netflix_single_file_with_several_movies(tmp_path):
    path = tmp_path / "combined_data_1.txt"
    path.write_text(MOVIE_1 + MOVIE_2)

    np.testing.assert_array_equal(load_netflix(path).X.toarray(), NETFLIX_MATRIX)


@pytest.mark.parametrize(
    "content, message",
    [
        ("1488844,3,2005-09-06\n", "first line is not 'MovieID:'"),
        ("1:\n30878\n2647871\n", "neither a rating nor a new"),
        ("2:\n1,3,2005-09-06\n1:\n2,3,2005-09-06\n", "neither a rating"),
        ("1:\n1488844,3\n", "has no date"),
        ("1:\n1488844,3,yesterday\n", "bad date"),
    ],
)
def test_netflix_wrong_layouts(tmp_path, content, message):
    path = tmp_path / "probe.txt"
    path.write_text(content)

    with pytest.raises(ValueError, match=message):
        load_netflix(path)


def test_netflix_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="combined_data"):
        load_netflix(tmp_path)
    with pytest.raises(FileNotFoundError, match="mv_0000001.txt"):
        load_netflix(tmp_path / "mv_0000001.txt")


# --- Million Song Dataset ------------------------------------------------------------


def test_msd_triplets(tmp_path):
    (tmp_path / "train_triplets.txt").write_text(
        "b80344d063b5ccb3212f76538f3d9e43d87dca9e\tSOAKIMP12A8C130995\t1\n"
        "b80344d063b5ccb3212f76538f3d9e43d87dca9e\tSOAPDEY12A81C210A9\t3\n"
        "85c1f87fea955d09b4bec2e36aee110927aedf9a\tSOAKIMP12A8C130995\t12\n"
    )

    data = load_msd(tmp_path)

    np.testing.assert_array_equal(data.X.toarray(), [[12, 0], [1, 3]])
    assert data.user_ids[0].startswith("85c1")
    np.testing.assert_array_equal(data.item_ids, ["SOAKIMP12A8C130995", "SOAPDEY12A81C210A9"])


@pytest.mark.parametrize(
    "content", ["user,song,3\n", "u1\tSO1\n", "u1\tSO1\tmany\n", "u1\tSO1\t2\nu2\tSO2\n"]
)
def test_msd_wrong_layout(tmp_path, content):
    path = tmp_path / "train_triplets.txt"
    path.write_text(content)

    with pytest.raises(ValueError, match="MSD taste profile layout"):
        load_msd(path)


def test_msd_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="train_triplets.txt"):
        load_msd(tmp_path)


# --- Last.fm -------------------------------------------------------------------------


def test_lastfm_small_file(tmp_path):
    (tmp_path / "user_artists.dat").write_text(
        "userID\tartistID\tweight\n2\t51\t13883\n2\t52\t11690\n3\t51\t7\n"
    )

    data = load_lastfm(tmp_path)

    np.testing.assert_array_equal(data.X.toarray(), [[13883, 11690], [7, 0]])
    assert data.timestamps is None


def test_lastfm_wrong_header(tmp_path):
    path = tmp_path / "user_artists.dat"
    path.write_text("user\tartist\tcount\n2\t51\t13883\n")

    with pytest.raises(ValueError, match="userID artistID weight"):
        load_lastfm(path)


def test_real_lastfm():
    data = load_lastfm(shared_dataset("lastfm-hetrec2011-2k"))

    assert (data.n_users, data.n_items, data.n_interactions) == (1892, 17_632, 92_834)
    assert data.X.max() == 352_698
    assert data.X.sum() / data.n_interactions == pytest.approx(745.244, abs=1e-3)


# --- One line per user ----------------------------------------------------------------


def test_user_item_lists(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("0 5 12 3\n2 3\r\n1\n10 12 5\n")

    data = load_user_item_lists(path)

    np.testing.assert_array_equal(data.user_ids, [0, 1, 2, 10])
    np.testing.assert_array_equal(data.item_ids, [3, 5, 12])
    np.testing.assert_array_equal(data.X.toarray(), [[1, 1, 1], [0, 0, 0], [1, 0, 0], [0, 1, 1]])


def test_user_item_lists_aligned_on_train_ids(tmp_path):
    (tmp_path / "train.txt").write_text("0 1 2\n1 2 3\n")
    (tmp_path / "test.txt").write_text("0 3\n")
    train = load_user_item_lists(tmp_path / "train.txt")

    test = load_user_item_lists(tmp_path / "test.txt", user_ids=train.user_ids,
                                item_ids=train.item_ids)

    assert test.X.shape == train.X.shape
    np.testing.assert_array_equal(test.X.toarray(), [[0, 0, 1], [0, 0, 0]])


def test_user_item_lists_unknown_ids_raise(tmp_path):
    (tmp_path / "test.txt").write_text("0 9\n")

    with pytest.raises(ValueError, match="item ids are not in the given item_ids"):
        load_user_item_lists(tmp_path / "test.txt", item_ids=np.array([1, 2]))
    with pytest.raises(ValueError, match="not in user_ids"):
        load_user_item_lists(tmp_path / "test.txt", user_ids=np.array([1]))


@pytest.mark.parametrize("catalogue", ["user_ids", "item_ids"])
def test_user_item_lists_reject_repeated_ids_in_a_catalogue(tmp_path, catalogue):
    (tmp_path / "test.txt").write_text("0 1\n")

    with pytest.raises(ValueError, match=rf"{catalogue} must be unique.*\[1\]"):
        load_user_item_lists(tmp_path / "test.txt", **{catalogue: np.array([0, 1, 1, 2])})


def test_user_item_lists_bad_character_gives_the_line(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("0 1 2\n1 2,3\n")

    with pytest.raises(ValueError, match="line 2"):
        load_user_item_lists(path)


def test_user_item_lists_refuse_a_file_with_one_interaction_per_line(tmp_path):
    path = tmp_path / "u.data"
    path.write_text("196\t242\t3\t881250949\n186\t302\t3\t891717742\n"
                    "196\t377\t1\t878887116\n")

    with pytest.raises(ValueError, match="user 196 starts lines 1 and 3"):
        load_user_item_lists(path)


@pytest.mark.parametrize("folder", ["gowalla-lightgcn", "ml-1m-bars-m2"])
def test_real_user_item_lists(folder):
    published = {"gowalla-lightgcn": (29_858, 40_981, 810_128, 217_242),
                 "ml-1m-bars-m2": (6022, 3043, 796_244, 99_455)}[folder]
    path = shared_dataset(folder)

    train = load_user_item_lists(path / "train.txt")
    test = load_user_item_lists(path / "test.txt", user_ids=train.user_ids,
                                item_ids=train.item_ids)

    assert (train.n_users, train.n_items) == published[:2]
    assert (train.n_interactions, test.n_interactions) == published[2:]
    assert train.X.multiply(test.X).nnz == 0
    assert test.X.getnnz(axis=1).min() >= 1


# --- DataFrames and CSV files ---------------------------------------------------------


def test_from_dataframe_with_values_and_datetimes():
    log = pd.DataFrame({
        "who": ["b", "a", "a"],
        "what": [20, 10, 20],
        "stars": [1.0, 4.0, 5.0],
        "when": pd.to_datetime(
            ["1970-01-01 00:00:10", "1970-01-02 00:00:00", "2000-01-01 00:00:00"]
        ),
    })

    data = from_dataframe(log, user_col="who", item_col="what", value_col="stars",
                          timestamp_col="when")

    np.testing.assert_array_equal(data.X.toarray(), [[4, 5], [0, 1]])
    np.testing.assert_array_equal(data.timestamps.toarray(), [[86_400, 946_684_800], [0, 10]])


def test_from_dataframe_implicit_and_sum_of_repeats():
    log = pd.DataFrame({"user": [1, 1, 2], "item": ["x", "x", "y"]})

    data = from_dataframe(log, duplicates="sum")

    np.testing.assert_array_equal(data.X.toarray(), [[2, 0], [0, 1]])


@pytest.mark.parametrize(
    "frame, options, message",
    [
        (pd.DataFrame({"u": [1], "item": [2]}), {}, r"no column\(s\) \['user'\]; available"),
        (pd.DataFrame({"user": [1, None], "item": [2, 3]}), {}, "missing values"),
        (pd.DataFrame({"user": [1], "item": [2], "v": ["a"]}), {"value_col": "v"},
         "not numeric"),
        (pd.DataFrame({"user": [], "item": []}), {}, "no interactions"),
        (pd.DataFrame({"user": [1], "item": [2], "t": ["soon"]}), {"timestamp_col": "t"},
         "timestamp column 't' is not dates"),
    ],
)
def test_from_dataframe_bad_input(frame, options, message):
    with pytest.raises(ValueError, match=message):
        from_dataframe(frame, **options)


def test_load_csv_sorts_integer_ids_numerically(tmp_path):
    path = tmp_path / "log.tsv"
    path.write_text("item\tuser\tscore\textra\n9\t100\t1.5\tx\n10\t2\t2\ty\n")

    data = load_csv(path, sep="\t", value_col="score")

    np.testing.assert_array_equal(data.item_ids, [9, 10])
    np.testing.assert_array_equal(data.user_ids, [2, 100])
    np.testing.assert_array_equal(data.X.toarray(), [[0, 2], [1.5, 0]])
    assert data.name == "log"


def test_load_csv_keeps_zero_padded_ids_apart(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("user,item\n007,1\n7,2\n")
    data = load_csv(path)
    assert data.n_users == 2 and sorted(data.user_ids) == ["007", "7"]
    assert data.item_ids.tolist() == [1, 2]


def test_load_csv_errors_name_the_file(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("user,item\n1,2\n")

    with pytest.raises(ValueError, match=r"log.csv: no column\(s\) \['rating'\]"):
        load_csv(path, value_col="rating")
    with pytest.raises(FileNotFoundError, match="other.csv"):
        load_csv(tmp_path / "other.csv")


def test_load_csv_rejects_non_finite_values_naming_file_column_and_count(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("user,item,score\n1,2,inf\n1,3,1.5\n2,2,-inf\n")

    with pytest.raises(ValueError, match=r"log.csv: column 'score' .* 2 of 3 rows"):
        load_csv(path, value_col="score")


# --- Values: finite, zeros not stored, negative kept ------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, 1e39])
def test_from_dataframe_rejects_non_finite_values_naming_column_and_count(bad):
    log = pd.DataFrame({"user": [1, 1, 2], "item": [1, 2, 1], "v": [bad, 2.0, bad]})

    with pytest.raises(ValueError, match=r"column 'v' must hold finite .* 2 of 3 rows"):
        from_dataframe(log, value_col="v")


def test_from_dataframe_does_not_store_zero_values():
    log = pd.DataFrame({"user": ["a", "a", "b", "c"], "item": ["x", "y", "x", "z"],
                        "v": [0.0, 0.0, 3.0, 4.0]})

    data = from_dataframe(log, value_col="v")

    assert data.n_interactions == 2
    assert np.all(data.X.data != 0)
    np.testing.assert_array_equal(data.user_ids, ["a", "b", "c"])


def test_from_dataframe_logs_how_many_zero_values_it_dropped(caplog):
    log = pd.DataFrame({"user": [1, 1, 2], "item": [1, 2, 1], "v": [0, 0, 5]})

    with caplog.at_level(logging.INFO, logger="skvaecf.datasets"):
        from_dataframe(log, value_col="v")

    assert "dropped 2 (user, item) pairs whose value is 0" in caplog.text


def test_repeats_summing_to_zero_are_not_stored_nor_their_times():
    log = pd.DataFrame({"user": [1, 1, 2], "item": [1, 1, 1], "v": [2.0, -2.0, 1.0],
                        "t": [10, 20, 30]})

    data = from_dataframe(log, value_col="v", timestamp_col="t", duplicates="sum")

    np.testing.assert_array_equal(data.X.toarray(), [[0], [1]])
    np.testing.assert_array_equal(data.timestamps.toarray(), [[0], [30]])
    assert data.timestamps.nnz == 1


def test_summed_repeats_beyond_float32_raise():
    log = pd.DataFrame({"user": [1, 1], "item": [1, 1], "v": [3e38, 3e38]})

    with pytest.raises(ValueError, match="exceeds the float32 range"):
        from_dataframe(log, value_col="v", duplicates="sum")


def test_from_dataframe_keeps_negative_values():
    log = pd.DataFrame({"user": [1, 1], "item": [1, 2], "v": [-2.0, 1.0]})

    np.testing.assert_array_equal(from_dataframe(log, value_col="v").X.toarray(), [[-2, 1]])


def test_estimators_reject_negative_values_until_binarised():
    log = pd.DataFrame({"user": [1, 1, 2], "item": [1, 2, 1], "v": [-2.0, 1.0, 2.0]})
    data = from_dataframe(log, value_col="v")

    with pytest.raises(ValueError, match="Negative values"):
        PopularityRecommender().fit(data.X)
    PopularityRecommender().fit(binarize(data, 0).X)


# --- Clear errors -----------------------------------------------------------------------


@pytest.mark.parametrize("catalogue", ["user_ids", "item_ids"])
def test_from_dataframe_rejects_repeated_ids_in_a_catalogue(catalogue):
    log = pd.DataFrame({"user": ["x", "y"], "item": ["x", "z"]})
    ids = np.array(["x", "x", "y", "z", "z"])

    with pytest.raises(ValueError, match=rf"{catalogue} must be unique, but 2 .*\['x', 'z'\]"):
        from_dataframe(log, **{catalogue: ids})


def test_catalogue_mixing_id_types_raises_type_error():
    log = pd.DataFrame({"user": [1], "item": [1]})

    with pytest.raises(TypeError, match=r"item_ids mix types .*\(int, str\)"):
        from_dataframe(log, item_ids=np.array([1, "a"], dtype=object))


def test_from_dataframe_ids_mixing_types_raise_type_error_naming_them():
    log = pd.DataFrame({"user": [1, "1", 2], "item": [1, 2, 3]})

    with pytest.raises(TypeError, match=r"user ids mix types .*\(int, str\).*astype\(str\)"):
        from_dataframe(log)


@pytest.mark.parametrize("frame", [{"user": [1], "item": [2]}, np.array([[1, 2]])])
def test_from_dataframe_requires_a_dataframe(frame):
    with pytest.raises(TypeError, match="frame must be a pandas DataFrame, got"):
        from_dataframe(frame)


def test_missing_values_message_names_only_the_incomplete_columns():
    log = pd.DataFrame({"user": [1, None, 3], "item": [1, 2, 3], "v": [1.0, 2.0, 3.0]})

    with pytest.raises(ValueError, match=r"in column\(s\) 'user' \(1 of 3 rows\)$"):
        from_dataframe(log, value_col="v")


def test_infinite_numeric_timestamps_raise():
    log = pd.DataFrame({"user": [1, 2], "item": [1, 1], "t": [10.0, np.inf]})

    with pytest.raises(ValueError, match="timestamp column 't' has 1 infinite"):
        from_dataframe(log, timestamp_col="t")
