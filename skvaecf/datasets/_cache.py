"""The local cache of downloaded archives: where it is, downloading, checking, unzipping."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import urllib.request
import zipfile
from pathlib import Path

from tqdm.auto import tqdm

logger = logging.getLogger(__name__)

#: Environment variable naming the cache folder when no ``data_home`` is given.
DATA_HOME_ENV = "SKVAECF_DATA"

_BLOCK_BYTES = 1 << 20
_HASHES_BY_LENGTH = {32: "md5", 64: "sha256"}


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Return the cache folder, creating it if needed.

    Parameters
    ----------
    data_home : str, path-like or None, default=None
        The folder. If None, the ``SKVAECF_DATA`` environment variable, and if that is
        unset, ``~/skvaecf_data``.

    Returns
    -------
    pathlib.Path
        The existing cache folder.

    Examples
    --------
    >>> import tempfile
    >>> from skvaecf.datasets import get_data_home
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     print(get_data_home(folder).is_dir())
    True
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV, Path.home() / "skvaecf_data")
    data_home = Path(data_home).expanduser()
    data_home.mkdir(parents=True, exist_ok=True)
    return data_home


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """Return the hex digest of a file, read in blocks of one MiB."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksum(path: Path, expected: str | None) -> None:
    """Check a file against a hex md5 (32 digits) or sha256 (64 digits) checksum.

    With ``expected=None`` nothing can be checked: the sha256 of the file is logged as a
    warning so that it can be recorded. A mismatch raises OSError naming the file, the
    expected and the computed checksum.
    """
    if expected is None:
        logger.warning(
            "no checksum recorded for %s; its sha256 is %s (pass checksum=... to verify it)",
            path, file_digest(path, "sha256"),
        )
        return

    expected = expected.lower().strip()
    if len(expected) not in _HASHES_BY_LENGTH:
        raise ValueError(f"checksum must be 32 (md5) or 64 (sha256) hex digits, got {expected!r}")

    algorithm = _HASHES_BY_LENGTH[len(expected)]
    actual = file_digest(path, algorithm)
    if actual != expected:
        raise OSError(
            f"{algorithm} checksum mismatch for {path}: expected {expected}, got {actual}; "
            "the file is corrupt or has changed (delete it to download it again)"
        )


def download(url: str, destination: Path, *, checksum: str | None, verbose: bool) -> Path:
    """Download ``url`` to ``destination`` unless it is already there, then verify it.

    The data are written to ``destination`` + ``.part`` and renamed only once complete
    and verified, so an interrupted download never looks like a cached file.
    """
    if not destination.is_file():
        partial = destination.with_name(destination.name + ".part")
        logger.info("downloading %s to %s", url, destination)

        with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as out:
            size = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=size, unit="B", unit_scale=True, disable=not verbose,
                      desc=destination.name) as progress:
                for block in iter(lambda: response.read(_BLOCK_BYTES), b""):
                    out.write(block)
                    progress.update(len(block))

        try:
            verify_checksum(partial, checksum)
        except OSError:
            partial.unlink()
            raise
        partial.replace(destination)
        return destination

    verify_checksum(destination, checksum)
    return destination


def extract_zip(archive: Path, folder: Path) -> Path:
    """Unzip ``archive`` into ``folder`` (through a temporary folder, renamed at the end).

    Raises ValueError if a member would land outside ``folder``.
    """
    staging = folder.with_name(folder.name + ".part")
    shutil.rmtree(staging, ignore_errors=True)

    with zipfile.ZipFile(archive) as zipped:
        for member in zipped.namelist():
            if member.startswith(("/", "\\")) or ".." in Path(member).parts:
                raise ValueError(f"{archive}: unsafe member path {member!r}")
        zipped.extractall(staging)

    staging.replace(folder)
    return folder
