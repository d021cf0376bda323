"""``python -m clients [URL]``: print the shell exports that point AWS tools at the emulator.

    eval "$(python -m clients)"     # then: aws s3 ls, python my_sagemaker_script.py ...
    python -m clients --notebook-metadata   # also write /opt/ml/metadata/resource-metadata.json
                                            # so sagemaker.get_execution_role() works offline
"""

from __future__ import annotations

import shlex
import sys

from clients import environment_for
from clients.notebook_metadata import write_notebook_metadata


def main(argv: list[str] | None = None) -> int:
    """Print ``export NAME=value`` lines (writes the SageMaker SDK config file too)."""
    args = sys.argv[1:] if argv is None else argv
    metadata = "--notebook-metadata" in args
    args = [a for a in args if a != "--notebook-metadata"]
    exports = environment_for(args[0] if args else None)
    if metadata:
        try:
            path = write_notebook_metadata()
        except OSError as exc:
            print(f"cannot write the notebook metadata file: {exc} (run as root, e.g. with sudo)", file=sys.stderr)
            return 1
        print(f"# sagemaker.get_execution_role() reads {path}", file=sys.stderr)
    for name, value in exports.items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
