"""Time the dataset loaders on the real files and on large generated files.

Usage::

    python benchmarks/load_times.py                      # real files in ../shared/data
    python benchmarks/load_times.py --large-lines 20000000   # plus generated big files

The real files are read in place (set SKVAECF_SHARED_DATA to move them). With
``--large-lines N`` the script also writes, in a temporary folder, a MovieLens-20M-style
``ratings.csv``, a Netflix ``combined_data_1.txt`` and an MSD ``train_triplets.txt`` of N
lines each, times their loading and reports the peak resident memory of each load
(measured in a child process).
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from skvaecf import datasets

logger = logging.getLogger(__name__)

SHARED_DATA = Path(os.environ.get("SKVAECF_SHARED_DATA",
                                  Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))

REAL_FILES = [
    ("ml-100k", datasets.load_movielens, "ml-100k"),
    ("ml-1m (converted ratings.csv)", datasets.load_movielens, "ml-1m"),
    ("ml-latest-small", datasets.load_movielens, "ml-latest-small"),
    ("lastfm-hetrec2011-2k", datasets.load_lastfm, "lastfm-hetrec2011-2k"),
    ("gowalla train.txt", datasets.load_user_item_lists, "gowalla-lightgcn/train.txt"),
]


def best_time(function, *args, repeats: int = 3):
    """Return the best wall time of several calls and the last result."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function(*args)
        times.append(time.perf_counter() - start)
    return min(times), result


def write_large_files(folder: Path, n_lines: int) -> dict[str, Path]:
    """Write files of ``n_lines`` records in the ML-20M, Netflix and MSD layouts."""
    rng = np.random.default_rng(0)
    users = np.sort(rng.integers(1, n_lines // 100 + 2, n_lines))
    items = rng.integers(1, 27_000, n_lines)
    ratings = rng.integers(1, 11, n_lines) / 2

    movielens = folder / "ratings.csv"
    pd.DataFrame({"userId": users, "movieId": items, "rating": ratings,
                  "timestamp": rng.integers(8e8, 1.4e9, n_lines)}).to_csv(movielens, index=False)

    netflix = folder / "combined_data_1.txt"
    per_movie = pd.DataFrame({"movie": np.sort(rng.integers(1, 17_771, n_lines)),
                              "customer": rng.permutation(users),
                              "rating": rng.integers(1, 6, n_lines)})
    with open(netflix, "w") as out:
        for movie, block in per_movie.groupby("movie"):
            out.write(f"{movie}:\n")
            block[["customer", "rating"]].assign(date="2005-09-06").to_csv(
                out, header=False, index=False)

    msd = folder / "train_triplets.txt"
    hex_users = pd.Series(users).map("{:040x}".format)
    songs = pd.Series(rng.integers(0, 384_546, n_lines)).map("SO{:016X}".format)
    pd.DataFrame({"u": hex_users, "s": songs, "c": rng.integers(1, 50, n_lines)}).to_csv(
        msd, sep="\t", header=False, index=False)

    return {"load_movielens (ML-20M layout)": movielens, "load_netflix": netflix,
            "load_msd": msd}


def _timed_load_in_child(loader_name: str, path: str, queue) -> None:
    """Load a file in a fresh process and report (seconds, peak RSS MiB, repr)."""
    loader = getattr(datasets, loader_name)
    start = time.perf_counter()
    data = loader(path)
    elapsed = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((elapsed, peak_mib, repr(data)))


def time_in_child(loader_name: str, path: Path):
    """Run one load in a child process so that its peak memory is its own."""
    queue = multiprocessing.Queue()
    child = multiprocessing.Process(target=_timed_load_in_child,
                                    args=(loader_name, str(path), queue))
    child.start()
    result = queue.get()
    child.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large-lines", type=int, default=0,
                        help="also time generated ML-20M/Netflix/MSD-style files of N lines")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("skvaecf").setLevel(logging.WARNING)

    for label, loader, relative_path in REAL_FILES:
        path = SHARED_DATA / relative_path
        if not path.exists():
            logger.info("%-32s skipped (%s not found)", label, path)
            continue
        seconds, data = best_time(loader, path)
        logger.info("%-32s %6.2f s  %r", label, seconds, data)

    if arguments.large_lines:
        with tempfile.TemporaryDirectory() as folder:
            files = write_large_files(Path(folder), arguments.large_lines)
            loaders = {"load_movielens (ML-20M layout)": "load_movielens",
                       "load_netflix": "load_netflix", "load_msd": "load_msd"}
            for label, path in files.items():
                seconds, peak_mib, summary = time_in_child(loaders[label], path)
                logger.info("%-32s %6.2f s  peak %5.0f MiB  %s", label, seconds, peak_mib,
                            summary)


if __name__ == "__main__":
    main()
