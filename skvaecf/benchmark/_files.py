"""Writing result files atomically, so that an interrupted run leaves no half-written file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def replace_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write`` on a temporary file next to ``path``, then rename it to ``path``.

    The file gets the usual permissions (0666 less the umask): ``mkstemp`` would otherwise
    leave it readable by its owner only.
    """
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                         suffix=path.suffix)
    os.close(handle)
    try:
        write(Path(temporary))
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
