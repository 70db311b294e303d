"""Find the files in a landing zone and say which extract of the contract each one is.

Layout: ``<landing>/<system>/<delivery date YYYY-MM-DD>/<file>``, file names per
``contract.FILE_NAME_RE``. Every file is returned, including those that match no extract (flagged
unknown, with the reason); hidden files and folders (name starting with ``.``) are ignored, as
uploaders use them for partial transfers.

The landing zone is a boundary: only regular files whose real path lies inside the landing
directory are ever opened. Symbolic links (to files or folders) and other non-regular entries
(pipes, sockets, devices) are returned rejected, with the reason, and never followed; so are
files whose business date lies outside the extract's window around the delivery date.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

from ingestion.contract import FILE_NAME_RE, Extract, load_contract

# Set to 1: every landing file is read and hashed again, whatever identity was recorded.
VERIFY_ENV = "CONCORD_VERIFY_HASHES"


def verify_hashes_requested() -> bool:
    """Whether the environment asks to hash every landing file again (CONCORD_VERIFY_HASHES=1)."""
    value = os.environ.get(VERIFY_ENV, "").strip()
    if value not in ("", "0", "1"):
        raise ValueError(f"{VERIFY_ENV}={value!r}: set it to 1 (verify) or 0 / unset (do not)")
    return value == "1"


@dataclass(frozen=True)
class FileIdentity:
    """What stands for a landing file's content besides its path (docs/decisions.md, "Unchanged
    landing files are not read again"): its size, modification and status-change times (ns) and
    inode. The status-change time cannot be set from user space, so content copied in with its
    old modification time kept (``cp -p``, ``rsync -t``, ``touch -r``) still changes it."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int

    @classmethod
    def of(cls, status: os.stat_result) -> FileIdentity:
        """The identity of a file as stat, lstat or fstat returned it."""
        return cls(status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)


@dataclass(frozen=True)
class LandingFile:
    """One file of the landing zone and what its path says about it."""

    path: Path
    source_file: str  # path relative to the landing dir, posix
    system: str | None  # first folder under the landing dir
    delivery_date: date | None  # second folder (None when it is not a YYYY-MM-DD date)
    file_name: str
    extract: str | None  # None when the file is unknown
    business_date: date | None
    sequence: int | None  # 1 for a first delivery, n for a ``_<n>`` re-delivery
    unknown_reason: str | None = None  # why no extract matches (None for known files)
    rejected_reason: str | None = None  # why the file is refused unread (None when it may load)
    # the entry's identity when listed, not following a link (None: not listed): with the path,
    # what ingestion compares to the identity it recorded to skip re-reading an unchanged file
    identity: FileIdentity | None = None

    @property
    def size(self) -> int | None:
        return None if self.identity is None else self.identity.size

    @property
    def is_known(self) -> bool:
        return self.extract is not None and self.rejected_reason is None

    @property
    def is_rejected(self) -> bool:
        return self.rejected_reason is not None

    @property
    def sort_key(self) -> tuple:
        return (self.delivery_date or date.min, self.system or "", self.file_name, self.source_file)


def _parse_date(text: str, fmt: str) -> date | None:
    try:
        return datetime.strptime(text, fmt).date()
    except ValueError:
        return None


def classify(
    path: Path, landing_dir: Path, contract: dict[str, Extract] | None = None
) -> LandingFile:
    """Describe one file of the landing zone (known extract or unknown with a reason)."""
    contract = contract if contract is not None else load_contract()
    relative = path.relative_to(landing_dir)
    parts = relative.parts
    source_file = relative.as_posix()
    system = parts[0] if len(parts) > 1 else None
    delivery_date = _parse_date(parts[1], "%Y-%m-%d") if len(parts) == 3 else None
    name = path.name

    def unknown(reason: str, business_date: date | None = None, sequence: int | None = None):
        return LandingFile(
            path,
            source_file,
            system,
            delivery_date,
            name,
            None,
            business_date,
            sequence,
            f"{source_file}: {reason}",
        )

    if len(parts) != 3:
        return unknown("not at <system>/<delivery date YYYY-MM-DD>/<file>")
    if delivery_date is None:
        return unknown(f"delivery folder {parts[1]!r} is not a date YYYY-MM-DD")
    match = FILE_NAME_RE.match(name)
    if match is None:
        return unknown(
            "file name matches no extract of the contract "
            "(expected <prefix>_<YYYYMMDD>[_<n>].<ext>)"
        )
    business_date = _parse_date(match["business_date"], "%Y%m%d")
    sequence = int(match["sequence"]) if match["sequence"] else 1
    if business_date is None:
        return unknown(
            f"business date {match['business_date']!r} in the file name is not a date",
            sequence=sequence,
        )
    extract = next((e for e in contract.values() if e.file_prefix == match["prefix"]), None)
    if extract is None:
        return unknown(
            f"file prefix {match['prefix']!r} matches no extract of the contract",
            business_date,
            sequence,
        )
    if extract.system != system:
        return unknown(
            f"extract {extract.name} belongs to system {extract.system!r}, found under {system!r}",
            business_date,
            sequence,
        )
    if match["extension"] != extract.extension:
        return unknown(
            f"extension .{match['extension']} does not match extract {extract.name}, "
            f"which is delivered as .{extract.extension}",
            business_date,
            sequence,
        )
    earliest = delivery_date - timedelta(days=extract.days_before_delivery)
    latest = delivery_date + timedelta(days=extract.days_after_delivery)
    rejected = None
    if not earliest <= business_date <= latest:
        rejected = (
            f"{source_file}: business date {business_date} in the file name is outside the "
            f"window the contract allows for a delivery on {delivery_date} "
            f"({earliest} to {latest}); not loaded"
        )
    return LandingFile(
        path,
        source_file,
        system,
        delivery_date,
        name,
        extract.name,
        business_date,
        sequence,
        rejected_reason=rejected,
    )


def _not_regular(mode: int, folder_inside: bool) -> str | None:
    """Why an entry of the landing zone must not be opened (None for a regular file inside).
    The walk descends only into real folders (a symbolic link is refused, never followed); each
    folder is resolved once more when it is read, so a folder swapped for a link during the walk
    is refused too, without resolving every file."""
    if stat.S_ISLNK(mode):
        return "is a symbolic link; only regular files inside the landing directory are read"
    if not stat.S_ISREG(mode):
        return "is not a regular file (a pipe, socket or device); never read"
    if not folder_inside:
        return "resolves to a path outside the landing directory; never read"
    return None


def _walk(landing_dir: Path) -> list[tuple[Path, str | None, os.stat_result]]:
    """Every non-hidden entry under the landing dir that is not a plain folder, without
    following symbolic links: (path, why it is refused or None, its lstat)."""
    found: list[tuple[Path, str | None, os.stat_result]] = []
    root = landing_dir.resolve()
    pending = [landing_dir]
    while pending:
        folder = pending.pop()
        folder_inside = folder.resolve().is_relative_to(root)
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                path = Path(entry.path)
                status = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(status.st_mode):
                    pending.append(path)
                else:
                    found.append((path, _not_regular(status.st_mode, folder_inside), status))
    return found


def discover(landing_dir: Path) -> list[LandingFile]:
    """Every file under the landing dir, sorted by (delivery date, system, file name), with its
    identity as listed."""
    landing_dir = Path(landing_dir)
    if not landing_dir.is_dir():
        raise FileNotFoundError(f"landing dir {landing_dir} does not exist")
    contract = load_contract()
    files = []
    for path, refused, status in _walk(landing_dir):
        landing_file = classify(path, landing_dir, contract)
        if refused:
            landing_file = replace(
                landing_file, rejected_reason=f"{landing_file.source_file}: {refused}"
            )
        files.append(replace(landing_file, identity=FileIdentity.of(status)))
    return sorted(files, key=lambda f: f.sort_key)
