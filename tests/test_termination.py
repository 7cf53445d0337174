"""Stops (Ctrl-C, SIGTERM, SIGHUP) within a command: the first raises, a second while the first is
cleaned up is let pass, and one dropped on the way does not make the next one pass too."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from faceapp.core import termination


@pytest.fixture
def terminal_ctrl_c():
    """SIGINT raising KeyboardInterrupt, as in a terminal (whatever the test runner set)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # (the stop dropped, as Python does)
def test_a_stop_dropped_in_a_finaliser_leaves_the_next_one_to_stop_the_command(monkeypatch, terminal_ctrl_c):
    """Sceptic QA: Ctrl-C raised while Python ran a finaliser (a ``__del__``) is printed and dropped
    by Python; with every later stop let pass, the command then ran to its end, two Ctrl-C lost."""
    monkeypatch.setattr(termination, "STOP_GRACE_S", 0.05)
    dropped = []

    class Finalised:
        def __del__(self):
            try:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.01)  # (the handler runs here, inside the finaliser)
            finally:
                dropped.append(True)

    with pytest.raises(KeyboardInterrupt):
        with termination.terminate_like_interrupt():
            Finalised()
            gc.collect()
            assert dropped  # the first stop went nowhere
            time.sleep(0.1)
            os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl-C again
            time.sleep(0.5)
            pytest.fail("the second Ctrl-C did not stop the block")


def test_a_stop_while_the_first_unwinds_is_let_pass(monkeypatch, terminal_ctrl_c):
    monkeypatch.setattr(termination, "STOP_GRACE_S", 0.3)
    cleaned, raised = [], []
    try:  # (caught here: a KeyboardInterrupt let out would stop the test run itself)
        with termination.terminate_like_interrupt():
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.5)
            finally:  # (a half-written file removed)
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
                cleaned.append("unwound")
    except BaseException as exc:  # noqa: BLE001
        raised.append(type(exc))
    assert cleaned == ["unwound"] and raised == [termination.Terminated]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handlers are put back


def test_a_stop_after_the_first_was_handled_ends_the_process_at_once():
    """Review: once a stop was being handled every later one was let pass, so a command whose
    clean-up hung (a reader of its output reading nothing) could only be killed. A stop past the
    grace, once the first is handled, ends it at once with exit status 130."""
    script = textwrap.dedent("""
        import os, signal, sys, time
        from faceapp.core import termination
        signal.signal(signal.SIGINT, signal.default_int_handler)
        termination.STOP_GRACE_S = 0.2
        with termination.terminate_like_interrupt():
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(1)
            except termination.Terminated:
                termination.stop_taken()
                os.kill(os.getpid(), signal.SIGINT)  # within the grace: let pass
                time.sleep(0.05)
                print("within the grace", flush=True)
                time.sleep(0.3)
                os.kill(os.getpid(), signal.SIGINT)  # past it, the first handled: at once
                time.sleep(5)
                print("hung", flush=True)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == termination.EXIT_INTERRUPTED, done.stderr
    assert done.stdout == "within the grace\n" and "Stopped at once." in done.stderr  # (never "hung")


def test_a_stop_held_back_and_raised_after_is_unwound_as_any_first_stop(monkeypatch, terminal_ctrl_c):
    """Sceptic QA (read in the code): a stop held back by stops_deferred and raised at its end was
    given no grace, so a second stop cut its unwinding short."""
    monkeypatch.setattr(termination, "STOP_GRACE_S", 0.3)
    unwound, raised = [], []
    try:  # (caught here: a KeyboardInterrupt let out would stop the test run itself)
        with termination.terminate_like_interrupt():
            try:
                with termination.stops_deferred():
                    os.kill(os.getpid(), signal.SIGTERM)
                    time.sleep(0.05)
            finally:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
                unwound.append(True)
    except BaseException as exc:  # noqa: BLE001
        raised.append(type(exc))
    assert unwound == [True] and raised == [termination.Terminated]
