"""Measuring the cost of a model: wall time and peak memory on the host and the GPU.

Torch allocates outside Python's allocator, so :mod:`tracemalloc` does not see it, and the
process's ``ru_maxrss`` cannot be reset between models. The host peak is therefore the
largest resident set size (RSS) sampled by a background thread while the code runs, minus
the RSS at the start. The GPU peak is :func:`torch.cuda.max_memory_allocated` after
resetting it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import logging
import os
import threading
import time

import torch

logger = logging.getLogger(__name__)

__all__ = ["PeakMemory", "release_free_memory", "resident_memory"]

_STATM = "/proc/self/statm"


def resident_memory() -> int | None:
    """Resident set size of this process in bytes, or None where it cannot be read.

    Reads ``/proc/self/statm`` on Linux; elsewhere uses :mod:`psutil` when it is
    installed.

    Returns
    -------
    int or None

    Examples
    --------
    >>> from skvaecf.benchmark.measure import resident_memory
    >>> rss = resident_memory()
    >>> rss is None or rss > 0
    True
    """
    try:
        with open(_STATM, encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil
    except ImportError:
        return None
    return int(psutil.Process().memory_info().rss)


def release_free_memory() -> None:
    """Return memory freed by earlier work to the operating system, where possible.

    Collects garbage, then, with glibc, calls ``malloc_trim(0)``: without it, the heap that
    an earlier model freed stays resident, and a later model that reuses it looks as if it
    needed less memory. Elsewhere only the garbage collection is done.

    Examples
    --------
    >>> from skvaecf.benchmark.measure import release_free_memory
    >>> release_free_memory()
    """
    gc.collect()
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)


@functools.cache
def _libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


class PeakMemory:
    """Context manager measuring the peak memory used above the level at entry.

    Parameters
    ----------
    device : str or torch.device or None, default=None
        A CUDA device whose peak allocated memory is measured too; None or a CPU device
        measures the host only.
    interval : float, default=0.005
        Seconds between two samples of the RSS.

    Attributes
    ----------
    host_bytes : int or None
        Largest RSS seen minus the RSS at entry (None where RSS cannot be read).
    gpu_bytes : int or None
        Peak memory allocated by torch on ``device`` minus the amount allocated at entry;
        None without a CUDA device.

    Notes
    -----
    Sampling misses peaks shorter than ``interval``, and memory freed by Python but kept
    by the allocator still counts as resident. Entering calls :func:`release_free_memory`,
    so that memory freed by earlier work is handed back before the start level is read;
    where that cannot be done (no glibc), code measured later in a process can reuse such
    memory and look smaller. The figure is the extra memory the code needed, including the
    copies it makes of its input, not the size of what it keeps.

    Examples
    --------
    >>> import numpy as np
    >>> from skvaecf.benchmark.measure import PeakMemory
    >>> with PeakMemory() as peak:
    ...     block = np.ones(20_000_000)
    >>> peak.host_bytes is None or peak.host_bytes > 100_000_000
    True
    """

    def __init__(self, device=None, interval: float = 0.005):
        self.device = device
        self.interval = interval
        self.host_bytes = None
        self.gpu_bytes = None

    def __enter__(self) -> PeakMemory:
        release_free_memory()
        self._cuda = self.device is not None and torch.device(self.device).type == "cuda"
        if self._cuda:
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._gpu_start = torch.cuda.memory_allocated(self.device)

        self._start = resident_memory()
        self._peak = self._start
        self._stop = threading.Event()
        self._thread = None
        if self._start is not None:
            self._thread = threading.Thread(target=self._sample, name="skvaecf-peak-memory",
                                            daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._peak = max(self._peak, resident_memory() or 0)
            time.sleep(self.interval)

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._peak = max(self._peak, resident_memory() or 0)
            self.host_bytes = max(0, self._peak - self._start)
        if self._cuda:
            torch.cuda.synchronize(self.device)
            self.gpu_bytes = max(0, torch.cuda.max_memory_allocated(self.device)
                                 - self._gpu_start)
