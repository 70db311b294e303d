"""Find the files in a landing zone and say which extract of the contract each one is.

Layout: ``<landing>/<system>/<delivery date YYYY-MM-DD>/<file>``, file names per
``contract.FILE_NAME_RE``. Every file is returned, including those that match no extract (flagged
unknown, with the reason); hidden files and folders (name starting with ``.``) are ignored, as
uploaders use them for partial transfers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from ingestion.contract import FILE_NAME_RE, Extract, load_contract


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

    @property
    def is_known(self) -> bool:
        return self.extract is not None

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
    return LandingFile(
        path, source_file, system, delivery_date, name, extract.name, business_date, sequence
    )


def discover(landing_dir: Path) -> list[LandingFile]:
    """Every file under the landing dir, sorted by (delivery date, system, file name)."""
    landing_dir = Path(landing_dir)
    if not landing_dir.is_dir():
        raise FileNotFoundError(f"landing dir {landing_dir} does not exist")
    contract = load_contract()
    files = []
    for path in landing_dir.rglob("*"):
        relative = path.relative_to(landing_dir)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        files.append(classify(path, landing_dir, contract))
    return sorted(files, key=lambda f: f.sort_key)
