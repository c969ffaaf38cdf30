#!/usr/bin/env python3
"""Times two or more initc binaries on one command, alternating them run by run.

On a shared machine the speed changes from minute to minute (up to 1.8x here); running the
binaries one after the other, each in turn first, lets their figures be compared. Prints, per
binary, the median, first quartile and minimum wall time and the median CPU time (user +
system), in milliseconds.

    python3 benches/interleave.py 30 OLD NEW -- summary benches/graph_100k.yaml
"""
import os
import statistics
import sys
import time


def main() -> None:
    runs = int(sys.argv[1])
    separator = sys.argv.index("--")
    binaries, arguments = sys.argv[2:separator], sys.argv[separator + 1 :]
    wall = {binary: [] for binary in binaries}
    cpu = {binary: [] for binary in binaries}
    environment = dict(os.environ)
    devnull = os.open(os.devnull, os.O_WRONLY)
    for run in range(runs):
        for binary in binaries if run % 2 == 0 else binaries[::-1]:
            start = time.perf_counter()
            pid = os.posix_spawn(
                binary,
                [binary, *arguments],
                environment,
                file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)],
            )
            _, status, usage = os.wait4(pid, 0)
            wall[binary].append((time.perf_counter() - start) * 1e3)
            cpu[binary].append((usage.ru_utime + usage.ru_stime) * 1e3)
            if os.waitstatus_to_exitcode(status) not in (0, 1):
                sys.exit(f"{binary} {' '.join(arguments)}: exit {os.waitstatus_to_exitcode(status)}")
    for binary in binaries:
        times = sorted(wall[binary])
        print(
            f"{binary}: wall median {statistics.median(times):.1f} ms"
            f" (first quartile {times[len(times) // 4]:.1f}, min {times[0]:.1f}),"
            f" CPU median {statistics.median(cpu[binary]):.1f} ms"
        )


if __name__ == "__main__":
    main()
