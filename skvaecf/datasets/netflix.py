"""Load the Netflix Prize training ratings."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ._assemble import InteractionCollector
from ._base import InteractionData
from ._reading import existing_file, first_line, read_chunks

__all__ = ["load_netflix"]

logger = logging.getLogger(__name__)

_LAYOUT = (
    "the Netflix Prize layout: a 'MovieID:' line, then 'CustomerID,Rating,YYYY-MM-DD' lines"
)
_MOVIE_LINE = re.compile(r"^\d+:$")


def load_netflix(path: str | os.PathLike, *, duplicates: str = "last") -> InteractionData:
    """Load the Netflix Prize training ratings.

    Parameters
    ----------
    path : str or path-like
        One of: the unpacked prize folder (holding ``training_set/`` or the Kaggle
        ``combined_data_1.txt`` ... ``combined_data_4.txt``); the ``training_set`` folder
        of ``mv_0000001.txt`` ... ``mv_0017770.txt`` files; or a single such file.
    duplicates : {"last", "max", "sum", "raise"}, default="last"
        What to do with repeated (customer, movie) pairs (the official files have
        none); see :func:`load_movielens`.

    Returns
    -------
    InteractionData
        ``X[u, i]`` is the rating (1 to 5 stars) of customer ``user_ids[u]`` for movie
        ``item_ids[i]``; ``timestamps`` holds the rating dates as seconds since the epoch
        (midnight UTC).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist or a folder holds none of the files above.
    ValueError
        If a file does not follow the layout (each block starts with a ``MovieID:``
        line and movie ids increase along the file).

    Notes
    -----
    Each file is parsed by the pandas C parser in chunks. A generated file of 20 million
    ratings loads in about 30 s with a peak memory of 1.3 GB, so expect a few minutes
    and about 6 GB for the 100,480,507 ratings of the full set. The movie header lines are
    recognised by reading ``:`` as the decimal mark, so ``"17:"`` parses as the number
    17 with no rating; a corrupt rating line without a comma would look the same, which
    is why movie ids must increase along each file and be followed by ratings (true of
    the official files).
    ``probe.txt`` and ``qualifying.txt`` have no ratings and are rejected.

    The full training set has 480,189 customers, 17,770 movies and 100,480,507
    ratings [1]_. The Mult-VAE preprocessing (:func:`apply_preset` with ``"netflix"``)
    leaves 463,435 users and 17,769 items [2]_.

    References
    ----------
    .. [1] J. Bennett and S. Lanning, "The Netflix Prize", KDD Cup and Workshop 2007.
    .. [2] D. Liang, R. G. Krishnan, M. D. Hoffman and T. Jebara, "Variational
       Autoencoders for Collaborative Filtering", WWW 2018.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from skvaecf.datasets import load_netflix
    >>> folder = tempfile.TemporaryDirectory()
    >>> file = pathlib.Path(folder.name) / "combined_data_1.txt"
    >>> _ = file.write_text("1:\\n1488844,3,2005-09-06\\n822109,5,2005-05-13\\n"
    ...                     "2:\\n822109,4,2005-05-13\\n")
    >>> data = load_netflix(file)
    >>> folder.cleanup()
    >>> data.user_ids.tolist(), data.item_ids.tolist()
    ([822109, 1488844], [1, 2])
    >>> data.X.toarray()
    array([[5., 4.],
           [3., 0.]], dtype=float32)
    """
    files = _rating_files(Path(path).expanduser())

    collector = InteractionCollector(str(path), duplicates, value_column="rating")
    for file in files:
        for customers, movies, ratings, times in _read_file(file):
            collector.add(customers, movies, ratings, times)

    data = collector.build(name="netflix")
    logger.info("loaded %r from %d file(s) under %s", data, len(files), path)
    return data


def _rating_files(path: Path) -> list[Path]:
    """Return the rating files designated by a file or one of the accepted folders."""
    if not path.is_dir():
        return [existing_file(path)]

    for folder in (path, path / "training_set"):
        files = sorted(folder.glob("mv_*.txt")) or sorted(folder.glob("combined_data_*.txt"))
        if files:
            return files
    raise FileNotFoundError(
        f"no Netflix Prize rating files (training_set/mv_*.txt or combined_data_*.txt) in {path}"
    )


def _read_file(path: Path):
    """Yield (customers, movies, ratings, timestamps) chunks of one rating file."""
    if not _MOVIE_LINE.match(first_line(path)):
        raise ValueError(f"{path}: expected {_LAYOUT}; the first line is not 'MovieID:'")

    movie, ends_with_movie_line = None, False
    for chunk in read_chunks(
        path, layout=_LAYOUT, header=None, names=["customer", "rating", "date"], decimal=":",
        dtype={"customer": "float64", "rating": "float32", "date": "str"},
        required=["customer"],
    ):
        is_movie_line = chunk["rating"].isna().to_numpy()
        _check_movie_lines(path, chunk["customer"].to_numpy(), is_movie_line,
                           previous_movie=movie, after_movie_line=ends_with_movie_line)
        ends_with_movie_line = bool(is_movie_line[-1])

        movies = chunk["customer"].where(is_movie_line).ffill()
        movies = (movies if movie is None else movies.fillna(movie)).to_numpy()
        movie = movies[-1]

        ratings = chunk[~is_movie_line]
        if ratings["date"].isna().any():
            raise ValueError(f"{path}: expected {_LAYOUT}; a rating line has no date")

        try:
            dates = pd.to_datetime(ratings["date"], format="%Y-%m-%d").to_numpy()
        except ValueError as error:
            raise ValueError(f"{path}: expected {_LAYOUT}; bad date: {error}") from error
        yield (
            ratings["customer"].to_numpy(np.int64),
            movies[~is_movie_line].astype(np.int64),
            ratings["rating"].to_numpy(),
            dates.astype("datetime64[s]").astype(np.int64),
        )


def _check_movie_lines(path, first_column, is_movie_line, previous_movie, after_movie_line):
    """Movie lines must hold whole, increasing ids, each followed by at least one rating."""
    movie_ids = first_column[is_movie_line]
    sequence = movie_ids if previous_movie is None else np.insert(movie_ids, 0, previous_movie)
    follows_movie_line = np.insert(is_movie_line[:-1], 0, after_movie_line)

    if (
        np.any(movie_ids % 1 != 0)
        or np.any(np.diff(sequence) <= 0)
        or np.any(is_movie_line & follows_movie_line)
    ):
        raise ValueError(
            f"{path}: expected {_LAYOUT}; found a line that is neither a rating nor a "
            "new, larger movie id followed by ratings (is this probe.txt or qualifying.txt?)"
        )
