"""``aws-ml-emulator snapshot save|load FILE --data-dir DIR``."""

from __future__ import annotations

import argparse
import os
import sys

from emulator.persistence import snapshot


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
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"aws-ml-emulator snapshot: {exc}", file=sys.stderr)
        return 2
    return 0
