"""Container paths of a processing job (``/opt/ml/processing/...``) mapped into the job's own directory.

Without a container the user's code cannot see ``/opt/ml``: the job runs with ``/opt/ml`` replaced by its
directory in the entrypoint, the arguments, the environment values and the text of the Python and shell
files it downloads as inputs (the SDK's ``code`` input). Paths the code builds at run time from pieces
(``"/opt" + "/ml"``) are not remapped."""

from __future__ import annotations

import os

CONTAINER_ROOT = "/opt/ml"
PROCESSING_ROOT = "/opt/ml/processing"


class PathMapper:
    """Maps container paths to the job directory ``root``."""

    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root)

    def local(self, container_path: str) -> str:
        """``/opt/ml/processing/input`` -> ``<root>/processing/input``; ValueError outside /opt/ml/processing."""
        normalised = os.path.normpath(container_path)
        if not (normalised == PROCESSING_ROOT or normalised.startswith(PROCESSING_ROOT + "/")):
            raise ValueError(f"LocalPath {container_path!r} must be under {PROCESSING_ROOT}/")
        return self.root + normalised[len(CONTAINER_ROOT):]

    def rewrite(self, text: str) -> str:
        """Every ``/opt/ml`` path prefix in ``text`` pointed at the job directory."""
        return text.replace(CONTAINER_ROOT + "/", self.root + "/").replace(
            f"'{CONTAINER_ROOT}'", f"'{self.root}'").replace(f'"{CONTAINER_ROOT}"', f'"{self.root}"')

    def rewrite_python_sources(self, directory: str) -> list[str]:
        """Rewrite the ``/opt/ml`` paths of every .py and .sh file under ``directory``; the files changed."""
        changed = []
        for folder, _, files in os.walk(directory):
            for name in files:
                if not name.endswith((".py", ".sh")):
                    continue
                path = os.path.join(folder, name)
                try:
                    with open(path, encoding="utf-8") as f:
                        text = f.read()
                except (UnicodeDecodeError, OSError):
                    continue
                rewritten = self.rewrite(text)
                if rewritten != text:
                    with open(path, "w", encoding="utf-8") as f:
                        f.write(rewritten)
                    changed.append(path)
        return changed
