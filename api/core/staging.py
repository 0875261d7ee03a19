"""Files a write produces, kept out of sight until its transaction commits.

`stage_files(session, root=..., key=...)` gives a staging directory under `<root>/.staging/`; the write puts
its files there with the same relative paths they will have under `root` (so a failed disk write fails
the request before anything commits). After the commit each file is moved into place (a rename on the
same file system: readers never see half a file); if the transaction rolls back the directory is deleted.
Promotion is write-once, like every artifact: a file already in place is kept, never replaced.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path

from sqlalchemy.orm import Session

from api.core.transaction import after_commit

STAGING_DIR = ".staging"


class StagedFiles:
    def __init__(self, root: Path, key: str) -> None:
        self.root = root
        self.directory = root / STAGING_DIR / f"{key}-{uuid.uuid4().hex[:12]}"
        self.directory.mkdir(parents=True)

    def promote(self) -> list[Path]:
        """Move every staged file to its place under `root` (unless one is there already)."""
        placed = []
        for staged in sorted(path for path in self.directory.rglob("*") if path.is_file()):
            target = self.root / staged.relative_to(self.directory)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged, target)
                placed.append(target)
        self.discard()
        return placed

    def discard(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
        with contextlib.suppress(OSError):  # another write's files may still be staged there
            self.directory.parent.rmdir()


def stage_files(session: Session, *, root: Path, key: str) -> StagedFiles:
    """A staging directory promoted into `root` after the session's transaction commits (see module doc).
    `key` names the write (e.g. `period-close-<tenant>-<period>-r<revision>`) for an operator reading it."""
    staged = StagedFiles(root, key)
    after_commit(session, staged.promote, on_rollback=staged.discard)
    return staged
