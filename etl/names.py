"""File names a district chose, as tonghop records, tells and stores them.

A landing file's name is whatever the uploading client wrote: bytes that are not UTF-8 (a name made on an
old Windows or unzipped from a legacy archive: Linux keeps the bytes, Python gives lone surrogates), line
breaks and other control characters, characters a Windows share refuses (`:`, `?`, `"`...), or a name so
long that a prefix or suffix added to it no longer fits in a file name (255 bytes). Recorded as it is, a
name with surrogates cannot be sent to PostgreSQL (psycopg refuses to encode it) and stopped the whole
night's ingest, every night, since the file stayed in the landing folder.

- `display_name`: the name recorded in dq.submission and told to people (valid Unicode, one line).
- `stored_name`: the name a copy is stored under (archive, quarantine, annotated copy): also without the
  characters Windows forbids and short enough for the prefixes and suffixes added to it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# what Windows (and so an SMB share holding the archive) refuses in a name, besides control characters
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"/\\|?*]')
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))])
# 255 bytes is the limit of a name on Linux file systems; the longest thing added to a stored name is the
# annotated copy's `_danh-dau-loi_<submission id>.xlsx` (or quarantine's `<submission id>_`), under 40 bytes
MAX_STORED_BYTES = 200


def display_name(name: str | Path) -> str:
    """A file name as recorded and told: undecodable bytes as U+FFFD, control characters and line breaks as
    spaces; otherwise as the district wrote it."""
    raw = os.fsencode(name.name if isinstance(name, Path) else name)
    return _CONTROL.sub(" ", raw.decode("utf-8", "replace"))


def stored_name(name: str | Path, limit: int = MAX_STORED_BYTES) -> str:
    """A file name safe to store a copy under, on Linux and on a Windows share: `display_name` without the
    characters Windows forbids, trailing dots and spaces, or a device name (`CON`, `NUL`...), cut to `limit`
    bytes of UTF-8 keeping its extension. A name that is already safe is returned unchanged."""
    text = _WINDOWS_FORBIDDEN.sub("_", display_name(name)).strip().rstrip(". ") or "tep"
    stem, dot, suffix = text.rpartition(".")
    if not dot or not stem or len(suffix.encode()) > 16:  # no extension, or a dot inside the name
        stem, suffix = text, ""
    if stem.upper().split(".")[0] in _WINDOWS_DEVICES:
        stem = "_" + stem
    tail = f".{suffix}" if suffix else ""
    room = limit - len(tail.encode())
    encoded = stem.encode()
    if len(encoded) > room:
        stem = encoded[:room].decode("utf-8", "ignore").rstrip(". ") or "tep"  # never half a character
    return stem + tail
