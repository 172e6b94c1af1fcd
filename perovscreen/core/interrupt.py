"""Ctrl-C that is not lost: a KeyboardInterrupt raised while compiled (numba) code calls back into Python
is swallowed there, so the handler also sets a flag that long loops check between tasks."""
from __future__ import annotations

import os
import signal
import sys
import threading

_flag = threading.Event()


def _handler(signum, frame):
    _flag.set()
    raise KeyboardInterrupt


def install() -> None:
    """Use the flagging handler in place of Python's default one (leave any other handler alone)."""
    if threading.current_thread() is threading.main_thread() and \
            signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _handler)


def check() -> None:
    """Raise KeyboardInterrupt if Ctrl-C came while it could not be raised."""
    if _flag.is_set():
        _flag.clear()
        raise KeyboardInterrupt


def exit_now(code: int) -> None:
    """Exit after Ctrl-C without interpreter finalisation: the finally blocks have closed the store, but an
    interrupt can land inside a numba/LLVM compile or an OpenMP region, and tearing those half-built states
    down at exit has segfaulted (CI: exit -11 instead of 130)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
