"""Tests of the download cache and the fetch_* functions, with local file:// mirrors."""

import hashlib
import logging
import urllib.request
import zipfile

import pytest

from skvaecf.datasets import fetch_movielens, fetch_msd, get_data_home

RATINGS_DAT = "1::10::5::978300760\n1::20::3::978302109\n2::10::4::978301968\n"


def make_archive(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


@pytest.fixture
def ml_1m_mirror(tmp_path):
    (tmp_path / "mirror").mkdir()
    members = {"ml-1m/ratings.dat": RATINGS_DAT, "ml-1m/movies.dat": "10::A (1995)::Drama\n"}
    return make_archive(tmp_path / "mirror" / "ml-1m.zip", members)


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the network was used")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def test_download_then_load_from_the_cache(tmp_path, ml_1m_mirror, monkeypatch):
    home = tmp_path / "cache"

    data = fetch_movielens("1m", data_home=home, url=ml_1m_mirror.as_uri())

    assert (data.n_users, data.n_items, data.n_interactions) == (2, 2, 3)
    assert (home / "movielens" / "ml-1m.zip").is_file()

    ml_1m_mirror.unlink()
    monkeypatch.setattr(urllib.request, "urlopen", None)
    assert fetch_movielens("ml-1m", data_home=home).n_interactions == 3


def test_prepopulated_archive_is_used_without_network(tmp_path, no_network):
    home = tmp_path / "cache"
    (home / "movielens").mkdir(parents=True)
    make_archive(home / "movielens" / "ml-10m.zip", {"ml-10M100K/ratings.dat": RATINGS_DAT})

    assert fetch_movielens("10m", data_home=home).n_users == 2


def test_latest_small_layout(tmp_path):
    mirror = make_archive(tmp_path / "m.zip", {
        "ml-latest-small/ratings.csv": "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n",
        "ml-latest-small/movies.csv": "movieId,title,genres\n1,Toy Story (1995),Animation\n",
    })

    data = fetch_movielens("latest-small", data_home=tmp_path / "c", url=mirror.as_uri())

    assert data.X[0, 0] == 4.0 and data.timestamps[0, 0] == 964982703


def test_cache_folder_from_environment_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv("SKVAECF_DATA", str(tmp_path / "from_env"))
    assert get_data_home() == tmp_path / "from_env"
    assert get_data_home(tmp_path / "argument") == tmp_path / "argument"

    monkeypatch.delenv("SKVAECF_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert get_data_home() == tmp_path / "home" / "skvaecf_data"
    assert get_data_home().is_dir()


def test_checksums_md5_and_sha256_accepted(tmp_path, ml_1m_mirror):
    content = ml_1m_mirror.read_bytes()

    for algorithm in ("md5", "sha256"):
        home = tmp_path / algorithm
        digest = hashlib.new(algorithm, content).hexdigest().upper()
        data = fetch_movielens("1m", data_home=home, url=ml_1m_mirror.as_uri(), checksum=digest)
        assert data.n_interactions == 3


def test_checksum_mismatch_names_file_expected_and_actual(tmp_path, ml_1m_mirror):
    home = tmp_path / "cache"
    actual = hashlib.sha256(ml_1m_mirror.read_bytes()).hexdigest()

    with pytest.raises(OSError, match=f"ml-1m.zip.part: expected {'0' * 64}, got {actual}"):
        fetch_movielens("1m", data_home=home, url=ml_1m_mirror.as_uri(), checksum="0" * 64)

    assert list((home / "movielens").iterdir()) == []


def test_checksum_mismatch_of_a_cached_archive(tmp_path, no_network):
    home = tmp_path / "cache"
    (home / "movielens").mkdir(parents=True)
    make_archive(home / "movielens" / "ml-1m.zip", {"ml-1m/ratings.dat": RATINGS_DAT})

    with pytest.raises(OSError, match="md5 checksum mismatch for .*ml-1m.zip: expected 0+,"):
        fetch_movielens("1m", data_home=home, checksum="0" * 32)


def test_bad_checksum_format(tmp_path, ml_1m_mirror):
    with pytest.raises(ValueError, match="32 .md5. or 64 .sha256. hex digits"):
        fetch_movielens("1m", data_home=tmp_path, url=ml_1m_mirror.as_uri(), checksum="abc")


def test_unrecorded_checksum_logs_the_sha256(tmp_path, ml_1m_mirror, caplog):
    with caplog.at_level(logging.WARNING):
        fetch_movielens("1m", data_home=tmp_path, url=ml_1m_mirror.as_uri())

    assert hashlib.sha256(ml_1m_mirror.read_bytes()).hexdigest() in caplog.text


def test_no_download_when_not_allowed(tmp_path, no_network):
    with pytest.raises(FileNotFoundError, match="ml-1m.zip is not in the cache"):
        fetch_movielens("1m", data_home=tmp_path, download_if_missing=False)


def test_unknown_variant_lists_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="'100k', '1m', '10m', '20m', '25m', '32m'"):
        fetch_movielens("2m", data_home=tmp_path)


def test_archive_without_ratings(tmp_path):
    mirror = make_archive(tmp_path / "m.zip", {"ml-100k/README": "nothing"})

    with pytest.raises(FileNotFoundError, match="u.data, ratings.dat, ratings.csv"):
        fetch_movielens("100k", data_home=tmp_path / "c", url=mirror.as_uri())


def test_unsafe_archive_member_is_refused(tmp_path):
    mirror = make_archive(tmp_path / "m.zip", {"../evil/u.data": "1\t1\t1\t1\n"})

    with pytest.raises(ValueError, match="unsafe member path"):
        fetch_movielens("100k", data_home=tmp_path / "c", url=mirror.as_uri())


def test_fetch_msd(tmp_path, no_network):
    home = tmp_path / "cache"
    (home / "msd").mkdir(parents=True)
    make_archive(home / "msd" / "train_triplets.txt.zip",
                 {"train_triplets.txt": "u1\tSOA\t3\nu2\tSOA\t1\nu2\tSOB\t2\n"})

    data = fetch_msd(data_home=home)

    assert (data.n_users, data.n_items) == (2, 2)
    assert data.X.sum() == 6
