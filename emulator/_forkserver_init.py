"""Imported first by the worker forkserver (emulator/workers.py PRELOAD), never elsewhere:
the forkserver ignores the terminal's Ctrl-C (the server decides when workers end, and
an interrupted import would print a traceback) in a process group of its own, and sets
the OpenMP environment of every job before any OpenMP runtime (xgboost, scikit-learn)
loads: idle OpenMP threads sleep (``OMP_WAIT_POLICY=PASSIVE``) instead of spinning,
so a training job never busy-waits against the server or other jobs on a shared CPU."""

import os
import signal

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
signal.signal(signal.SIGINT, signal.SIG_IGN)
try:
    os.setpgid(0, 0)
except OSError:
    pass
