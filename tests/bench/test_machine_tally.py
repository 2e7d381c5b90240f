"""The benches' record of what the machine took from a measured window."""

from __future__ import annotations

import mmap
import os
from pathlib import Path

from bench.run import MachineTally, host_stolen_seconds

PAGES = 256


def test_pages_read_back_from_disk_are_counted_as_major_faults(tmp_path: Path) -> None:
    """A page the kernel has dropped stops the process that touches it until the
    disk returns it: the tally counts each such fault of the measured processes."""
    dropped = tmp_path / "dropped"
    dropped.write_bytes(os.urandom(PAGES * mmap.PAGESIZE))
    with dropped.open("rb") as file:
        os.fsync(file.fileno())
        os.posix_fadvise(file.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        pages = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        # Read back one page at a time, as a process stalled by the kernel would.
        pages.madvise(mmap.MADV_RANDOM)
        tally = MachineTally({"this test": os.getpid(), "not started": None})
        with tally.measure():
            for offset in range(0, len(pages), mmap.PAGESIZE):
                pages[offset]  # the read is the point: it faults the page in
        pages.close()

    assert tally.figures["major_faults"] >= PAGES // 2


def test_the_time_the_host_stole_is_read_from_the_steal_column() -> None:
    """/proc/stat of this machine's kind of VM: 2,778 ticks stolen, next to 70,474 of
    softirq and 5,304 of iowait, which must not be taken for it."""
    proc_stat = (
        "cpu  2252984 0 147890 2940868 5304 0 70474 2778 0 0\n"
        "cpu0 1095038 0 69602 1508637 598 0 34923 1287 0 0\n"
    )
    assert host_stolen_seconds(proc_stat) == 2778 / os.sysconf("SC_CLK_TCK")


def test_an_idle_window_takes_nothing_from_the_measured_processes() -> None:
    tally = MachineTally({"this test": os.getpid()})
    with tally.measure():
        pass
    assert tally.figures["major_faults"] == 0
