"""Keys kept in the instance folder, never in the database: the session secret and the
key that signs audit anchors."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def instance_key(instance_path: Path, name: str = "secret_key") -> str:
    """The instance's key ``name``, created on first run: readable by its owner only, and
    written whole before it appears, so workers starting together all read the same key."""
    key_file = instance_path / name
    if not key_file.exists():
        key = secrets.token_urlsafe(48)
        tmp = instance_path / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(key)
                f.flush()
                os.fsync(f.fileno())
            os.link(tmp, key_file)  # fails if another process got there first: use theirs
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links: create it exclusively instead
            try:
                with os.fdopen(os.open(key_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600), "w") as f:
                    f.write(key)
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
    return key_file.read_text().strip()
