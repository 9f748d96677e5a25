"""Load MovieLens ratings in any of the official GroupLens file layouts."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ._assemble import InteractionCollector
from ._base import InteractionData
from ._reading import existing_file, first_line, read_chunks

__all__ = ["load_movielens"]

logger = logging.getLogger(__name__)

#: File names looked for, in this order, when ``load_movielens`` is given a folder.
RATINGS_FILES = ("u.data", "ratings.dat", "ratings.csv")

#: Accepted header names of the user, item, rating and timestamp columns of a CSV.
_CSV_HEADERS = {
    ("userId", "movieId", "rating", "timestamp"): "official ratings.csv (20M/25M/32M/latest)",
    ("user", "item", "rating"): "converted ratings.csv without timestamps",
}

_LAYOUT_HELP = (
    "a MovieLens ratings file: u.data (100K: user TAB item TAB rating TAB timestamp), "
    "ratings.dat (1M/10M: UserID::MovieID::Rating::Timestamp) or ratings.csv with header "
    "'userId,movieId,rating,timestamp' (20M/25M/32M/latest) or 'user,item,rating'"
)


def load_movielens(path: str | os.PathLike, *, duplicates: str = "last") -> InteractionData:
    """Load MovieLens ratings from a folder or file in any official layout.

    The layout is detected from the first line of the file:

    - ``u.data`` (MovieLens 100K, also ``u1.base`` etc.): ``user item rating timestamp``
      separated by TABs, no header;
    - ``ratings.dat`` (MovieLens 1M and 10M): ``UserID::MovieID::Rating::Timestamp``;
    - ``ratings.csv`` (MovieLens 20M, 25M, 32M, latest and latest-small): header
      ``userId,movieId,rating,timestamp``; a converted file with header
      ``user,item,rating`` and no timestamps is accepted too.

    Parameters
    ----------
    path : str or path-like
        A ratings file, or a folder holding one of ``u.data``, ``ratings.dat`` or
        ``ratings.csv`` (looked for in that order), such as the unzipped ``ml-1m``.
    duplicates : {"last", "max", "sum", "raise"}, default="last"
        What to do when a (user, movie) pair is rated several times (the official files
        have no such repeats): keep the last rating in file order, the highest, the sum,
        or raise ValueError. Merged repeats are logged as a warning.

    Returns
    -------
    InteractionData
        ``X[u, i]`` is the rating (0.5 to 5 stars) of user ``user_ids[u]`` for movie
        ``item_ids[i]`` (MovieLens user and movie ids, ascending). ``timestamps`` holds
        the rating times in seconds since the epoch, or None for a file without them.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist, or is a folder with none of the ratings files.
    ValueError
        If the file is not in one of the layouts above (the message names the file and
        the layout expected), or has ratings that are not finite numbers (the message
        gives their number).

    See Also
    --------
    fetch_movielens : Download a MovieLens archive, then load it with this function.
    binarize, apply_preset : The preprocessing of the Mult-VAE paper.

    Notes
    -----
    Only the ratings are read; movie titles, genres, tags and user demographics are
    not. Ratings of 0 (absent from the official files) are not stored, as in
    :func:`from_dataframe`; negative ratings (from a converted, centred file) are
    kept, to be binarised with a threshold before fitting, since the estimators reject
    negative values. The files are parsed by the pandas C parser in chunks of two million lines:
    MovieLens 1M loads in under a second, and a generated file of MovieLens 20M's size
    (20 million lines) in about 20 s with a peak memory of 1.5 GB (two-core machine; see
    ``benchmarks/load_times.py``).

    Published sizes [1]_: 100K has 943 users, 1682 movies and 100,000 ratings; 1M has
    6040 users, 3706 rated movies and 1,000,209 ratings; 20M has 138,493 users, 26,744
    movies and 20,000,263 ratings.

    References
    ----------
    .. [1] F. M. Harper and J. A. Konstan, "The MovieLens Datasets: History and
       Context", ACM Transactions on Interactive Intelligent Systems 5(4), 2015.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from skvaecf.datasets import load_movielens
    >>> folder = tempfile.TemporaryDirectory()
    >>> ratings = pathlib.Path(folder.name) / "ratings.dat"
    >>> _ = ratings.write_text("1::10::5::978300760\\n1::20::3::978302109\\n"
    ...                        "2::10::4::978301968\\n")
    >>> data = load_movielens(folder.name)
    >>> folder.cleanup()
    >>> data.X.toarray()
    array([[5., 3.],
           [4., 0.]], dtype=float32)
    >>> data.item_ids.tolist()
    [10, 20]
    """
    ratings_file = _find_ratings_file(Path(path).expanduser())
    header = first_line(ratings_file)

    if "::" in header:
        chunks = _read_dat(ratings_file)
    elif "\t" in header:
        chunks = _read_u_data(ratings_file)
    elif "," in header:
        chunks = _read_csv(ratings_file, header)
    else:
        raise ValueError(f"{ratings_file}: expected {_LAYOUT_HELP}; first line is {header!r}")

    collector = InteractionCollector(str(ratings_file), duplicates, value_column="rating")
    for users, items, ratings, times in chunks:
        collector.add(users, items, ratings, times)

    data = collector.build(name=ratings_file.parent.name or "movielens")
    logger.info("loaded %r from %s", data, ratings_file)
    return data


def _find_ratings_file(path: Path) -> Path:
    """Return the ratings file itself, or the first known ratings file in a folder."""
    if not path.is_dir():
        return existing_file(path)

    for file_name in RATINGS_FILES:
        if (path / file_name).is_file():
            return path / file_name
    raise FileNotFoundError(f"no MovieLens ratings file ({', '.join(RATINGS_FILES)}) in {path}")


def _read_u_data(path: Path):
    """Yield (users, items, ratings, timestamps) chunks of a 100K-style TAB file."""
    layout = "the MovieLens 100K layout 'user TAB item TAB rating TAB timestamp', no header"
    for chunk in read_chunks(
        path, layout=layout, sep="\t", header=None, names=["user", "item", "rating", "time"],
        dtype={"user": "int64", "item": "int64", "rating": "float32", "time": "int64"},
    ):
        yield chunk["user"], chunk["item"], chunk["rating"], chunk["time"]


def _read_dat(path: Path):
    """Yield chunks of a 1M/10M ``::``-separated file.

    Splitting on a single ``:`` lets the fast C parser read it: the fields then sit in
    columns 0, 2, 4 and 6, with empty columns between them.
    """
    layout = "the MovieLens 1M/10M layout 'UserID::MovieID::Rating::Timestamp'"
    for chunk in read_chunks(
        path, layout=layout, sep=":", header=None, usecols=[0, 2, 4, 6],
        names=["user", "gap1", "item", "gap2", "rating", "gap3", "time"],
        dtype={"user": "int64", "item": "int64", "rating": "float32", "time": "int64"},
    ):
        yield chunk["user"], chunk["item"], chunk["rating"], chunk["time"]


def _read_csv(path: Path, header: str):
    """Yield chunks of a ratings.csv with one of the accepted headers."""
    columns = tuple(name.strip() for name in header.split(","))
    if columns not in _CSV_HEADERS:
        accepted = " or ".join(repr(",".join(names)) for names in _CSV_HEADERS)
        raise ValueError(f"{path}: expected a ratings.csv header {accepted}; got {header!r}")

    user, item, rating = columns[:3]
    time = columns[3] if len(columns) == 4 else None
    dtype = {user: "int64", item: "int64", rating: "float32"} | ({time: "int64"} if time else {})

    layout = f"a MovieLens ratings.csv with columns {', '.join(columns)}"
    for chunk in read_chunks(path, layout=layout, dtype=dtype):
        yield chunk[user], chunk[item], chunk[rating], chunk[time] if time else None
