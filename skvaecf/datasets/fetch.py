"""Download public datasets into the local cache and load them from there."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ._base import InteractionData
from ._cache import download, extract_zip, get_data_home
from .movielens import RATINGS_FILES, load_movielens
from .msd import TRIPLETS_FILE, load_msd

__all__ = ["MOVIELENS_VARIANTS", "fetch_movielens", "fetch_msd"]

logger = logging.getLogger(__name__)

_MOVIELENS_URL = "https://files.grouplens.org/datasets/movielens/{archive}.zip"
_MSD_URL = "http://millionsongdataset.com/sites/default/files/challenge/train_triplets.txt.zip"

#: MovieLens variant -> archive name on files.grouplens.org.
MOVIELENS_VARIANTS = {
    "100k": "ml-100k",
    "1m": "ml-1m",
    "10m": "ml-10m",
    "20m": "ml-20m",
    "25m": "ml-25m",
    "32m": "ml-32m",
    "latest-small": "ml-latest-small",
}

#: Known checksums (hex sha256) of the archives. None means "not yet recorded": the
#: download is then not verified and its sha256 is logged as a warning, to be recorded
#: here once checked against a trusted copy.
CHECKSUMS = {f"{archive}.zip": None for archive in MOVIELENS_VARIANTS.values()}
CHECKSUMS["train_triplets.txt.zip"] = None


def fetch_movielens(
    variant: str = "1m",
    *,
    data_home: str | os.PathLike | None = None,
    checksum: str | None = None,
    download_if_missing: bool = True,
    url: str | None = None,
    verbose: bool = False,
) -> InteractionData:
    """Download a MovieLens archive from GroupLens once, then load it from the cache.

    Parameters
    ----------
    variant : {"100k", "1m", "10m", "20m", "25m", "32m", "latest-small"}, default="1m"
        Which MovieLens; the ``"ml-"`` prefix is accepted (``"ml-1m"``).
    data_home : str, path-like or None, default=None
        The cache folder. If None, the folder named by the ``SKVAECF_DATA`` environment
        variable, and if that is unset, ``~/skvaecf_data``. Archives go to
        ``<data_home>/movielens/``.
    checksum : str or None, default=None
        Expected md5 (32 hex digits) or sha256 (64 hex digits) of the archive. None
        uses the recorded one; if none is recorded, the computed sha256 is logged.
    download_if_missing : bool, default=True
        If False, raise FileNotFoundError instead of downloading.
    url : str or None, default=None
        Download address, to use a mirror (any URL urllib opens, ``file://`` included);
        defaults to ``https://files.grouplens.org/datasets/movielens/ml-<variant>.zip``.
    verbose : bool, default=False
        Show a progress bar while downloading.

    Returns
    -------
    InteractionData
        As returned by :func:`load_movielens`.

    Raises
    ------
    ValueError
        If ``variant`` is unknown (the message lists the valid ones).
    FileNotFoundError
        If the data are not cached and ``download_if_missing`` is False, or the archive
        holds no ratings file.
    OSError
        If the download fails, or the archive does not match the checksum (the message
        names the file, the expected and the computed checksum).

    Notes
    -----
    .. envvar:: SKVAECF_DATA

       Cache folder used when ``data_home`` is not given.

    The archive is unzipped next to itself and only the unzipped folder is read
    afterwards, without network access; the checksum is verified when the archive is
    downloaded or first unzipped, not on later calls. No checksums are recorded yet in this version
    (see ``CHECKSUMS``), so downloads are only verified when ``checksum`` is given.
    The data are under the GroupLens licence: research use, no redistribution.

    Examples
    --------
    A local mirror stands in for files.grouplens.org here:

    >>> import pathlib, tempfile, zipfile
    >>> from skvaecf.datasets import fetch_movielens
    >>> folder = tempfile.TemporaryDirectory()
    >>> mirror = pathlib.Path(folder.name) / "ml-100k.zip"
    >>> with zipfile.ZipFile(mirror, "w") as archive:
    ...     archive.writestr("ml-100k/u.data", "196\\t242\\t3\\t881250949\\n")
    >>> cache = pathlib.Path(folder.name) / "cache"
    >>> fetch_movielens("100k", data_home=cache, url=mirror.as_uri()).n_interactions
    1
    >>> fetch_movielens("100k", data_home=cache).n_interactions  # from the cache
    1
    >>> folder.cleanup()
    """
    archive = _movielens_archive(variant)
    folder = get_data_home(data_home) / "movielens" / archive

    if not folder.is_dir():
        _download_and_extract(
            url or _MOVIELENS_URL.format(archive=archive), folder, f"{archive}.zip",
            checksum=checksum, download_if_missing=download_if_missing, verbose=verbose,
        )
    return load_movielens(_find_file(folder, RATINGS_FILES))


def fetch_msd(
    *,
    data_home: str | os.PathLike | None = None,
    checksum: str | None = None,
    download_if_missing: bool = True,
    url: str | None = None,
    verbose: bool = False,
) -> InteractionData:
    """Download the Million Song Dataset taste profile once, then load it from the cache.

    Parameters
    ----------
    data_home : str, path-like or None, default=None
        The cache folder, as in :func:`fetch_movielens`; the archive goes to
        ``<data_home>/msd/``.
    checksum : str or None, default=None
        Expected md5 or sha256 of the archive; None logs the computed sha256.
    download_if_missing : bool, default=True
        If False, raise FileNotFoundError instead of downloading.
    url : str or None, default=None
        Download address; defaults to
        ``http://millionsongdataset.com/sites/default/files/challenge/train_triplets.txt.zip``.
    verbose : bool, default=False
        Show a progress bar while downloading.

    Returns
    -------
    InteractionData
        As returned by :func:`load_msd`.

    Raises
    ------
    FileNotFoundError
        If the data are not cached and ``download_if_missing`` is False.
    OSError
        If the download fails or the archive does not match the checksum.

    Notes
    -----
    The archive is about 500 MB and unzips to 2.9 GB; loading then takes a few
    minutes (see :func:`load_msd`). The cache folder follows ``data_home``, then the
    :envvar:`SKVAECF_DATA` environment variable, then ``~/skvaecf_data``.

    Examples
    --------
    >>> import pathlib, tempfile, zipfile
    >>> from skvaecf.datasets import fetch_msd
    >>> folder = tempfile.TemporaryDirectory()
    >>> mirror = pathlib.Path(folder.name) / "train_triplets.txt.zip"
    >>> with zipfile.ZipFile(mirror, "w") as archive:
    ...     archive.writestr("train_triplets.txt", "b80344d0\\tSOAKIMP12A8C130995\\t1\\n")
    >>> fetch_msd(data_home=pathlib.Path(folder.name) / "cache", url=mirror.as_uri()).n_users
    1
    >>> folder.cleanup()
    """
    folder = get_data_home(data_home) / "msd" / "train_triplets"

    if not folder.is_dir():
        _download_and_extract(
            url or _MSD_URL, folder, "train_triplets.txt.zip",
            checksum=checksum, download_if_missing=download_if_missing, verbose=verbose,
        )
    return load_msd(_find_file(folder, (TRIPLETS_FILE,)))


def _movielens_archive(variant: str) -> str:
    """Return the archive name of a MovieLens variant, or raise ValueError listing them."""
    short_name = variant.removeprefix("ml-") if isinstance(variant, str) else variant
    if short_name not in MOVIELENS_VARIANTS:
        valid = ", ".join(repr(name) for name in MOVIELENS_VARIANTS)
        raise ValueError(f"unknown MovieLens variant {variant!r}; valid variants: {valid}")
    return MOVIELENS_VARIANTS[short_name]


def _download_and_extract(url, folder, archive_name, *, checksum, download_if_missing, verbose):
    """Download an archive into ``folder``'s parent (if needed) and unzip it to ``folder``."""
    archive = folder.parent / archive_name
    if not archive.is_file() and not download_if_missing:
        raise FileNotFoundError(
            f"{archive_name} is not in the cache {folder.parent} and download_if_missing=False"
        )

    folder.parent.mkdir(parents=True, exist_ok=True)
    download(url, archive, checksum=checksum or CHECKSUMS.get(archive_name), verbose=verbose)
    extract_zip(archive, folder)


def _find_file(folder: Path, file_names: tuple[str, ...]) -> Path:
    """Return the first file found under ``folder`` with one of ``file_names`` (in order)."""
    for file_name in file_names:
        found = sorted(folder.rglob(file_name))
        if found:
            return found[0]
    raise FileNotFoundError(f"none of {', '.join(file_names)} found under {folder}")
