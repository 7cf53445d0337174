"""A fresh interpreter stopped by a signal while it imports a module: how the front-ends' first
seconds (torch, Qt loading) are tested."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run_stopped_while_importing(module: str, then: str, *, signal_name: str = "SIGINT",
                                env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the Python source ``then`` in a new interpreter to which ``signal_name`` is sent as
    ``module`` starts being imported (SIGINT raising KeyboardInterrupt, as in a terminal; the others
    at their default); returns the finished process, its output captured as text."""
    handler = "signal.default_int_handler" if signal_name == "SIGINT" else "signal.SIG_DFL"
    script = textwrap.dedent(f"""
        import os, signal, sys
        signal.signal(signal.{signal_name}, {handler})

        class StopWhileImporting:
            def find_spec(self, name, path=None, target=None):
                if name == {module!r}:
                    os.kill(os.getpid(), signal.{signal_name})
                return None

        sys.meta_path.insert(0, StopWhileImporting())
    """) + textwrap.dedent(then)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
