"""``getResolvedOptions``: the job arguments a script asks for, as AWS Glue resolves them."""

from __future__ import annotations

import argparse
from typing import Sequence


class GlueArgumentError(Exception):
    """A requested job argument is missing."""


def getResolvedOptions(args: Sequence[str], options: Sequence[str]) -> dict[str, str]:  # noqa: N802 - AWS's name
    """``{"NAME": value}`` for each name in ``options``, read from ``--NAME value`` in ``args``.

    Like AWS Glue: every requested option is required, unknown arguments are ignored,
    ``JOB_NAME`` / ``JOB_ID`` / ``JOB_RUN_ID`` come from the run, and a value may also be
    given as ``--NAME=value``.
    """
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    for option in options:
        parser.add_argument(f"--{option}", dest=option, required=False)
    known, _ = parser.parse_known_args(list(args[1:]))
    resolved = vars(known)
    missing = [o for o in options if resolved.get(o) is None]
    if missing:
        raise GlueArgumentError("the following arguments are required: " + ", ".join(f"--{m}" for m in missing))
    return {o: resolved[o] for o in options}
