"""Fresh-venv install time and size of the core package (the README's first command).

    python bench/install.py                 # this checkout
    python bench/install.py --rev f71509b   # the same for a git revision (before/after)
    python bench/install.py --extras test   # with an extra
    python bench/install.py --compare f71509b   # that revision, then this checkout, side by side

Creates a new virtual environment in a temporary directory, times
``python3 -m venv`` + ``pip install <checkout>`` exactly as the README runs them (pip's
usual cache and index settings apply), then prints the wall time, the environment's
size on disk and its largest packages. The environment is deleted afterwards.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tree_size(path: str) -> int:
    """Bytes of every regular file under ``path`` (symlinks not followed)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            if not os.path.islink(full):
                total += os.path.getsize(full)
    return total


def export_revision(rev: str, target: str) -> str:
    """``git archive`` a revision of this repository into ``target``; returns the directory."""
    os.makedirs(target)
    archive = subprocess.run(["git", "-C", REPO, "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", target], input=archive, check=True)
    return target


def largest_packages(site_packages: str, count: int) -> list[tuple[str, int]]:
    """The ``count`` largest top-level entries of site-packages, by size."""
    sizes = []
    for name in os.listdir(site_packages):
        full = os.path.join(site_packages, name)
        sizes.append((name, tree_size(full) if os.path.isdir(full) else os.path.getsize(full)))
    return sorted(sizes, key=lambda item: -item[1])[:count]


def install(rev: str | None, extras: str, no_cache: bool, top: int) -> tuple[float, int]:
    """Install ``rev`` (None: the working tree) into a new venv; print and return (seconds, bytes)."""
    work = tempfile.mkdtemp(prefix="aws-ml-emulator-install-")
    try:
        source = export_revision(rev, os.path.join(work, "src")) if rev else REPO
        target = source + (f"[{extras}]" if extras else "")
        venv = os.path.join(work, "venv")
        pip = [os.path.join(venv, "bin", "python"), "-m", "pip", "install", "--quiet"]
        if no_cache:
            pip.append("--no-cache-dir")
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([*pip, target], check=True)
        seconds = time.perf_counter() - started
        size = tree_size(venv)
        site = subprocess.run([os.path.join(venv, "bin", "python"), "-c",
                               "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              check=True, capture_output=True, text=True).stdout.strip()
        print(f"install {rev or 'working tree'}{' [' + extras + ']' if extras else ''}: "
              f"{seconds:.0f} s, venv {size / 1e6:.0f} MB", flush=True)
        for name, bytes_ in largest_packages(site, top):
            print(f"  {bytes_ / 1e6:7.1f} MB  {name}")
        return seconds, size
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", help="install this git revision instead of the working tree")
    parser.add_argument("--compare", metavar="REV", help="install REV, then the working tree, and compare")
    parser.add_argument("--extras", default="", help="comma-separated extras, e.g. test")
    parser.add_argument("--no-cache", action="store_true", help="pass --no-cache-dir to pip")
    parser.add_argument("--top", type=int, default=12, help="how many of the largest packages to list")
    args = parser.parse_args(argv)
    if args.compare:
        before = install(args.compare, args.extras, args.no_cache, args.top)
        after = install(None, args.extras, args.no_cache, args.top)
        print(f"before {args.compare}: {before[0]:.0f} s, {before[1] / 1e6:.0f} MB; "
              f"after: {after[0]:.0f} s, {after[1] / 1e6:.0f} MB "
              f"({after[0] / before[0]:.2f}x time, {after[1] / before[1]:.2f}x size)")
    else:
        install(args.rev, args.extras, args.no_cache, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
