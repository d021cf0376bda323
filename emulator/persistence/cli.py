"""``aws-ml-emulator snapshot save|load FILE --data-dir DIR``."""

from __future__ import annotations

import argparse
import os
import sys

from emulator.persistence import snapshot
from emulator.persistence.disk import DataDirInUseError

IN_USE_STATUS = 3
"""Exit status of ``snapshot load`` while an emulator runs on the directory."""


def snapshot_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="aws-ml-emulator snapshot",
                                     description="Save a data directory to one archive, or load one into it.")
    parser.add_argument("action", choices=("save", "load"))
    parser.add_argument("file", help="the archive (.tar.gz)")
    parser.add_argument("--data-dir", default=os.environ.get("EMULATOR_DATA_DIR"), required=not os.environ.get("EMULATOR_DATA_DIR"),
                        help="the emulator's data directory (EMULATOR_DATA_DIR); load needs the emulator stopped")
    args = parser.parse_args(argv)
    try:
        if args.action == "save":
            count = snapshot.save(args.data_dir, args.file)
            print(f"saved {args.data_dir} to {args.file} ({count} files)")
        else:
            kept = snapshot.load(args.file, args.data_dir)
            print(f"loaded {args.file} into {args.data_dir}" + (f"; previous data kept in {kept}" if kept else ""))
    except DataDirInUseError as exc:
        print(f"aws-ml-emulator snapshot: cannot load: {exc} (or load it into the running emulator: "
              f"curl -X PUT --data-binary @{args.file} http://HOST:PORT/_emulator/snapshot)", file=sys.stderr)
        return IN_USE_STATUS
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"aws-ml-emulator snapshot: {exc}", file=sys.stderr)
        return 2
    return 0
