"""``python -m clients [URL]``: print the shell exports that point AWS tools at the emulator.

    eval "$(python -m clients)"     # then: aws s3 ls, python my_sagemaker_script.py ...
"""

from __future__ import annotations

import shlex
import sys

from clients import environment_for


def main(argv: list[str] | None = None) -> int:
    """Print ``export NAME=value`` lines (writes the SageMaker SDK config file too)."""
    args = sys.argv[1:] if argv is None else argv
    for name, value in environment_for(args[0] if args else None).items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
