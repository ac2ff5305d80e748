"""The agent's state directory: its identity, its enrollment and its key.

Files (all owner-only):
- ``instance-id``: a UUID made once; the hub knows this machine by it.
- ``enrollment.json``: hub URL, agent id, school, room, terminal, enrollment and revocation times.
- ``agent.key``: the agent key the hub issued, shown once by the hub and kept only here.
The report spool and its counters live beside them in ``spool.db`` (see spool.py).
"""
from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from agents.i18n import _

KEY_FILE = "agent.key"
ENROLLMENT_FILE = "enrollment.json"
INSTANCE_FILE = "instance-id"
SPOOL_FILE = "spool.db"


class StateError(RuntimeError):
    """The state directory cannot be read or written; the message says which path and why."""


@dataclass(frozen=True)
class Enrollment:
    hub_url: str
    agent_id: str
    school: str
    room: str
    terminal: str | None
    enrolled_at: str
    key: str
    revoked_at: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class State:
    """Reads and writes the files of one state directory; the directory is created owner-only."""

    def __init__(self, directory: Path):
        self.dir = Path(directory)

    @property
    def spool_path(self) -> Path:
        return self.dir / SPOOL_FILE

    def create(self) -> None:
        try:
            self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(_("cannot create the state directory {dir}: {reason}").format(
                dir=self.dir, reason=exc.strerror)) from None

    def instance_id(self) -> str:
        """This installation's UUID, made on first use and kept for good."""
        path = self.dir / INSTANCE_FILE
        existing = self._read(path)
        if existing and existing.strip():
            return existing.strip()
        made = str(uuid.uuid4())
        self.create()
        self._write_private(path, made + "\n")
        return made

    def enrollment(self) -> Enrollment | None:
        """The current enrollment, or None when this machine has not been enrolled."""
        text = self._read(self.dir / ENROLLMENT_FILE)
        key = self._read(self.dir / KEY_FILE)
        if text is None or key is None:
            return None
        try:
            return Enrollment(**json.loads(text), key=key.strip())
        except (ValueError, TypeError) as exc:
            raise StateError(_("{file} is damaged ({reason}); enroll again").format(
                file=self.dir / ENROLLMENT_FILE, reason=exc)) from None

    def save_enrollment(self, enrollment: Enrollment) -> None:
        """Keep a fresh enrollment: the key first, so a crash never leaves a record without its key."""
        self.create()
        self._write_private(self.dir / KEY_FILE, enrollment.key + "\n")
        record = {k: v for k, v in asdict(enrollment).items() if k != "key"}
        self._write_private(self.dir / ENROLLMENT_FILE, json.dumps(record, indent=2) + "\n")

    def mark_revoked(self, when: str) -> Enrollment | None:
        """Record that the hub refused the key; kept until the next enrollment."""
        current = self.enrollment()
        if current is None or current.revoked:
            return current
        revoked = replace(current, revoked_at=when)
        self.save_enrollment(revoked)
        return revoked

    def read_file(self, name: str) -> str | None:
        """Another duty's file in the state directory (the schedule, the recordings), or None."""
        return self._read(self.dir / name)

    def write_file(self, name: str, text: str) -> None:
        """Replace another duty's file in the state directory atomically, owner-only."""
        self.create()
        self._write_private(self.dir / name, text)

    def _read(self, path: Path) -> str | None:
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(_("cannot read {file}: {reason} (run as the agent's user or as "
                               "administrator)").format(file=path, reason=exc.strerror)) from None

    def _write_private(self, path: Path, text: str) -> None:
        """Write atomically with mode 0600; under root, hand the file to the directory's owner."""
        tmp = path.with_name(path.name + ".tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            if hasattr(os, "geteuid") and os.geteuid() == 0:
                # `sudo eduops-agent enroll` must leave files the service's own user can read.
                owner = self.dir.stat()
                os.chown(tmp, owner.st_uid, owner.st_gid)
            os.replace(tmp, path)
        except OSError as exc:
            raise StateError(_("cannot write {file}: {reason}").format(file=path, reason=exc.strerror)) from None
