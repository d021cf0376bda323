"""Imported first by the worker forkserver (emulator/workers.py PRELOAD), never elsewhere:
the forkserver ignores the terminal's Ctrl-C (the server decides when workers end, and
an interrupted import would print a traceback) in a process group of its own."""

import os
import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)
try:
    os.setpgid(0, 0)
except OSError:
    pass
