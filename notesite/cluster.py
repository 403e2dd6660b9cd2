"""Run `manage.py qcluster` so that a SIGTERM to the whole process group stops it cleanly.

    python -m notesite.cluster [--grace SECONDS]      (Q_CLUSTER_NAME etc. pass through)

Procfile runners signal a process's whole group: honcho 2 sends SIGTERM with os.killpg, then
SIGKILL 5 s later (honcho.manager.KILL_WAIT, fixed). django-q2 expects the signal in its main
process only. Its sentinel leaves SIGTERM at the default and dies at once, and the main process,
stopping, then blocks for good in `stop_event.set()`: multiprocessing's Condition.notify_all
waits for the dead sentinel to acknowledge. So every stop ended in honcho's SIGKILL, 5 s on.

Here the cluster gets a process group of its own, and SIGTERM or SIGINT reaches its main
process alone: the sentinel stops the pusher, lets idle workers finish and exits, in well under
a second. A task still running after `--grace` seconds (3, less than honcho's 5) is killed with
its group: the ORM broker hands it out again after Q_CLUSTER["retry"], and a job left "running"
is failed by the stall check (NOTES_JOB_STALL_SECONDS). This module imports no Django: it is a
second, small process beside the cluster.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXIT_KILLED = 1  # the cluster outlived the grace time and was killed


@dataclass(frozen=True)
class RunConfig:
    # Seconds from the first SIGTERM/SIGINT to SIGKILL of the cluster: under honcho's 5 with a
    # margin, as a niced runner on a busy machine may be slow to act on it.
    grace: float = 3.0
    command: tuple[str, ...] = (sys.executable, "manage.py", "qcluster")


def run(config: RunConfig) -> int:
    """Run the cluster until it exits; return its exit status (EXIT_KILLED if it was killed)."""
    cluster = subprocess.Popen(config.command, cwd=ROOT, start_new_session=True)
    deadline: float | None = None

    def stop(signum, frame) -> None:
        nonlocal deadline
        if deadline is None:
            deadline = time.monotonic() + config.grace
            cluster.send_signal(signal.SIGTERM)  # its main process only: it stops the rest

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while True:
            try:
                status = cluster.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if deadline is not None and time.monotonic() > deadline:
                    print(f"qcluster still running {config.grace:g} s after SIGTERM: killed",
                          file=sys.stderr, flush=True)
                    _kill_group(cluster.pid)
                    cluster.wait()
                    return EXIT_KILLED
    finally:
        _kill_group(cluster.pid)  # anything its main process left behind
    return status


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group is empty: everything exited
        os.killpg(pgid, signal.SIGKILL)


def main(argv: list[str] | None = None) -> int:
    """Command line: `python -m notesite.cluster [--grace SECONDS]`."""
    parser = argparse.ArgumentParser(prog="python -m notesite.cluster", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grace", type=float, default=RunConfig.grace,
                        help="seconds a stopping cluster may take before it is killed "
                             "(default: %(default)s, under honcho's 5)")
    args = parser.parse_args(argv)
    return run(RunConfig(grace=args.grace))


if __name__ == "__main__":
    sys.exit(main())
