"""Load the Last.fm listening counts of the HetRec 2011 workshop."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ._assemble import InteractionCollector
from ._base import InteractionData
from ._reading import existing_file, first_line, read_chunks

__all__ = ["load_lastfm"]

logger = logging.getLogger(__name__)

#: Name of the user-artist play count file in the hetrec2011-lastfm-2k archive.
USER_ARTISTS_FILE = "user_artists.dat"

_HEADER_FIELDS = ["userID", "artistID", "weight"]
_LAYOUT = (
    "the HetRec 2011 user_artists.dat layout: TAB-separated with header 'userID artistID weight'"
)


def load_lastfm(path: str | os.PathLike, *, duplicates: str = "last") -> InteractionData:
    """Load the Last.fm user x artist play counts of HetRec 2011 (hetrec2011-lastfm-2k).

    Parameters
    ----------
    path : str or path-like
        ``user_artists.dat`` or the unzipped folder holding it.
    duplicates : {"last", "max", "sum", "raise"}, default="last"
        What to do with repeated (user, artist) pairs (the official file has none); see
        :func:`load_movielens`.

    Returns
    -------
    InteractionData
        ``X[u, i]`` is the number of plays (the ``weight`` column) of artist
        ``item_ids[i]`` by user ``user_ids[u]``; no timestamps.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist or the folder has no ``user_artists.dat``.
    ValueError
        If the header is not ``userID TAB artistID TAB weight`` or a line is malformed.

    Notes
    -----
    Only the play counts are read; friendships, tags and artist names are not. The
    counts are implicit feedback: binarise them (``binarize(data, 0)``) for Mult-VAE.
    The file has 1892 users, 17,632 artists and 92,834 (user, artist) pairs with
    weights from 1 to 352,698 [1]_.

    References
    ----------
    .. [1] I. Cantador, P. Brusilovsky and T. Kuflik, "2nd Workshop on Information
       Heterogeneity and Fusion in Recommender Systems (HetRec 2011)", RecSys 2011.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from skvaecf.datasets import load_lastfm
    >>> folder = tempfile.TemporaryDirectory()
    >>> file = pathlib.Path(folder.name) / "user_artists.dat"
    >>> _ = file.write_text("userID\\tartistID\\tweight\\n2\\t51\\t13883\\n2\\t52\\t11690\\n")
    >>> load_lastfm(file).X.toarray()
    array([[13883., 11690.]], dtype=float32)
    >>> folder.cleanup()
    """
    path = Path(path).expanduser()
    counts_file = existing_file(path / USER_ARTISTS_FILE if path.is_dir() else path)

    header = first_line(counts_file)
    if header.split("\t") != _HEADER_FIELDS:
        raise ValueError(f"{counts_file}: expected {_LAYOUT}; got header {header!r}")

    collector = InteractionCollector(str(counts_file), duplicates, value_column="weight")
    for chunk in read_chunks(
        counts_file, layout=_LAYOUT, sep="\t",
        dtype={"userID": "int64", "artistID": "int64", "weight": "float32"},
    ):
        collector.add(chunk["userID"], chunk["artistID"], chunk["weight"])

    data = collector.build(name="lastfm-hetrec2011-2k")
    logger.info("loaded %r from %s", data, counts_file)
    return data
