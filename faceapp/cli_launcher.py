"""The ``faceapp-cli`` command: it stops cleanly from its first moment.

Loading the command (torch, OpenCV, the engine) takes seconds, and a Ctrl-C, SIGTERM or SIGHUP then
printed a Python traceback or killed the process with 143 or 129, where README promises exit code
130 for each (archivist QA). This module imports nothing heavy: it sets the signals up, then (for a
``restore --json``) reads the inputs named with the command's parser and loads :mod:`faceapp.cli`,
whose ``main`` handles them once a command runs; a stop before then does nothing heavy.
"""

from __future__ import annotations

import sys

from faceapp.cli_json import JsonNotWritten, asks_for_restore_json, print_json, unreached_document
from faceapp.cli_stderr import tolerant_stderr
from faceapp.core.termination import EXIT_INTERRUPTED, ignore_stops, stops_deferred, terminate_like_interrupt


def main() -> int:
    """Load and run ``faceapp-cli``; exit code 130, no traceback, when stopped while loading (or
    before its command handles stops itself: parsing its arguments); once stopped, a second stop
    while the process ends changes nothing."""
    with tolerant_stderr():
        code = _run(sys.argv[1:])
    if code == EXIT_INTERRUPTED:
        ignore_stops()
    return code


def _run(argv: list[str]) -> int:
    inputs: list[str] = []  # the inputs named, once read
    try:
        with terminate_like_interrupt():
            if asks_for_restore_json(argv):  # what a stop while loading lists as not reached: read first,
                with stops_deferred():  # whole (fault QA: a stop in its first 0.3 s listed no inputs)
                    from faceapp.cli_parser import inputs_named

                    inputs = inputs_named(argv)
            from faceapp.cli import main as run_command

            return run_command()
    except KeyboardInterrupt:  # (Terminated too: SIGTERM, SIGHUP)
        ignore_stops()  # (the stop's handlers are put back by now: a second stop would kill what follows, review)
        print("Interrupted.", file=sys.stderr)
        if asks_for_restore_json(argv):  # (QA: a script reading stdout got nothing to parse)
            try:
                print_json(unreached_document(inputs))
            except JsonNotWritten as exc:  # (stdout full; a reader gone wants nothing more)
                print(f"error: {exc}", file=sys.stderr)
            except BrokenPipeError:
                pass
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # python -m faceapp.cli_launcher: as faceapp-cli (CLI QA: it did nothing, exit 0)
    raise SystemExit(main())
