"""Ingest: archive, record, read, validate, load or quarantine each received file.

Order of work for a batch of files (nothing a district sent is ever lost):
1. each file is copied byte for byte into $TONGHOP_HOME/archive/ and recorded in dq.submission
   (committed at once); an identical byte copy of an earlier file is marked `duplicate` and stops here;
2. the others are read and validated in chunks (one Great Expectations call per suite per chunk);
3. per chunk, in one transaction: typed rows into staging, findings into dq.issue, verdicts, and the
   accepted submissions published into core (etl.pipeline: a chunk's staging rows are written while the
   previous chunk publishes, and the next chunk is read meanwhile). A rejected file is also copied into
   quarantine/.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import shutil
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import sqlalchemy as sa

from etl import history, load, locks
from etl.config import TZ, ProvinceConfig, Settings
from etl.layout import combined_layout
from etl.model import Finding, ParsedWorkbook
from etl.names import display_name, stored_name
from etl.pipeline import ChunkWriter
from etl.read import read_workbooks
from etl.validate import validate_workbooks

log = logging.getLogger(__name__)
# What a folder scan leaves where it is: lock files of an open workbook (Excel `~$…`, LibreOffice
# `.~lock.…#`, and every hidden file), the folder views Windows writes, and transfers still in progress
# (they are read once complete, under their final name). Every other file gets a verdict: a district's
# `.xls`, `.ods`, `.pdf` or `.docx` is archived, recorded and answered (unreadable, with what to send
# instead) rather than left unseen in the landing folder.
SKIPPED_NAMES = ("thumbs.db", "desktop.ini")
SKIPPED_PREFIXES = ("~$", ".")
IN_TRANSFER_SUFFIXES = (".part", ".partial", ".crdownload", ".download", ".filepart", ".tmp")
CHUNK_SIZE = 100  # files read and validated together; bounds memory on a national night
# pg_advisory_lock key an ingest holds for its whole run ("tonghopi" in ASCII; the migrations use "tonghop")
INGEST_LOCK = 0x746F6E67686F7069


@dataclass
class Received:
    path: Path
    submission_id: int
    sha256: str
    archive_path: Path
    duplicate_of: int | None
    period: tuple[str | None, str | None, str | None] = (None, None, None)  # a duplicate's, from its original


@dataclass(frozen=True)
class Verdict:
    """What happened to one file: the line `tonghop ingest` prints."""

    file_name: str
    submission_id: int
    status: str
    ma_don_vi: str | None = None
    nam_hoc: str | None = None
    ky_bao_cao: str | None = None
    n_errors: int = 0
    n_warnings: int = 0

    def line(self) -> str:
        period = " ".join(x or "?" for x in (self.ma_don_vi, self.nam_hoc, self.ky_bao_cao))
        return (f"{self.status:<10} #{self.submission_id:<5} {period:<18} {self.file_name}"
                f"  ({self.n_errors} lỗi, {self.n_warnings} cảnh báo)")


def find_files(paths: Iterable[Path]) -> list[Path]:
    """Each file given, and each file under each folder given (sorted), but lock files, hidden files,
    Windows' folder views and transfers in progress (see SKIPPED_NAMES)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*")) if p.is_file() and _is_submitted(p.relative_to(path)))
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(f"không tìm thấy tệp: {path}")
    return found


def _is_submitted(relative: Path) -> bool:
    """A file under a scanned folder (its path relative to it) that a district sent: not in a hidden folder
    (a sync tool's `.stversions`, say), not a lock file, a folder view or a transfer in progress."""
    if any(part.startswith(SKIPPED_PREFIXES) for part in relative.parts[:-1]):
        return False
    name = relative.name.lower()
    return not (name.startswith(SKIPPED_PREFIXES) or name in SKIPPED_NAMES or name.endswith(IN_TRANSFER_SUFFIXES))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class NotReceived(Exception):
    """A file that cannot be archived now (it cannot be read, or it changed while it was copied: an upload
    still in progress). It is not recorded and stays in the landing folder for the next run."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason  # Vietnamese, for the operator's console


def archive_file(path: Path, settings: Settings) -> tuple[str, Path, os.stat_result]:
    """Copy the file byte for byte to archive/<sha[:2]>/<sha>/<name> (idempotent; the name as
    `etl.names.stored_name` makes it safe to store), hashing the very bytes
    copied; returns the sha256, the archived path and the file's metadata. A file that changed while it was
    copied (still being uploaded) or that cannot be read raises `NotReceived`: hashing and copying in two
    reads could archive other bytes than the ones hashed."""
    settings.archive_dir.mkdir(parents=True, exist_ok=True)
    tmp = settings.archive_dir / f".incoming-{uuid.uuid4().hex}.part"
    digest = hashlib.sha256()
    try:
        before = path.stat()
        with open(path, "rb") as src, open(tmp, "wb") as dst:
            for block in iter(lambda: src.read(1 << 20), b""):
                digest.update(block)
                dst.write(block)
            copied = dst.tell()
        after = path.stat()
    except FileNotFoundError as exc:
        tmp.unlink(missing_ok=True)
        # the operator reads this: not the system's English "No such file or directory"
        raise NotReceived(path, "tệp không còn ở đó (đã được chuyển đi hoặc xóa sau khi quét thư mục)") from exc
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise NotReceived(path, f"không đọc được tệp ({exc.strerror or type(exc).__name__})") from exc
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or copied != after.st_size:
        tmp.unlink(missing_ok=True)
        raise NotReceived(path, "tệp đang thay đổi (có thể đang được tải lên)")
    sha256 = digest.hexdigest()
    target = settings.archive_dir / sha256[:2] / sha256 / stored_name(path)
    if target.exists():
        tmp.unlink()
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.replace(target)
    return sha256, target, after


def receive_file(engine: sa.Engine, path: Path, settings: Settings, in_flight: AbstractSet[int] = frozenset()
                 ) -> Received:
    """Archive and record one file before anything else happens to it. `in_flight`: submissions this run
    has received but not yet given a verdict (a second copy of one of them is a duplicate, not a resume).
    Raises `NotReceived` (nothing recorded) for a file that cannot be archived now."""
    sha256, archived, stat = archive_file(path, settings)
    received_at = dt.datetime.fromtimestamp(stat.st_mtime, tz=dt.UTC)
    with engine.begin() as c:
        earlier = c.execute(
            sa.text("select submission_id, status, ma_don_vi, nam_hoc, ky_bao_cao, email, received_at "
                    "from dq.submission where sha256 = :sha and status <> 'duplicate' order by submission_id limit 1"),
            {"sha": sha256},
        ).first()
        if earlier is not None and earlier.status == "received" and earlier.submission_id not in in_flight:
            # An interrupted run recorded it but never gave a verdict (its load is one transaction, so
            # nothing of it was kept): resume it instead of calling it a duplicate.
            return Received(path, earlier.submission_id, sha256, archived, None)
        # A duplicate carries its original's district, period and address (the same bytes say the same), so
        # the summaries file it under its district and a district told about it is the right one.
        original = earlier._mapping if earlier is not None else {}
        submission_id = c.execute(
            sa.text(
                "insert into dq.submission (file_name, sha256, size_bytes, archive_path, received_at, status, "
                "duplicate_of, ma_don_vi, nam_hoc, ky_bao_cao, email) values (:name, :sha, :size, :archive, "
                ":received_at, :status, :dup, :ma_don_vi, :nam_hoc, :ky_bao_cao, :email) returning submission_id"
            ),
            {"name": display_name(path), "sha": sha256, "size": stat.st_size, "archive": str(archived),
             "received_at": received_at, "status": "duplicate" if earlier is not None else "received",
             "dup": original.get("submission_id"), "ma_don_vi": original.get("ma_don_vi"),
             "nam_hoc": original.get("nam_hoc"), "ky_bao_cao": original.get("ky_bao_cao"),
             "email": original.get("email")},
        ).scalar_one()
        if earlier is not None and earlier.status == "superseded":
            _tell_copy_of_replaced(c, submission_id, earlier.submission_id, earlier.received_at)
    return Received(path, submission_id, sha256, archived, original.get("submission_id"),
                    (original.get("ma_don_vi"), original.get("nam_hoc"), original.get("ky_bao_cao")))


def _tell_copy_of_replaced(c: sa.Connection, submission_id: int, original_id: int, sent: dt.datetime) -> None:
    """A copy of a version a later file replaced is still a duplicate (not processed again), but its sender
    most likely means to go back to those figures: tell them (a warning, so the district's e-mail carries it)
    how to do that."""
    at = sent.astimezone(TZ).strftime("%H:%M ngày %d/%m/%Y")
    message = (f"Tệp giống hệt tệp đã gửi lúc {at} (mã tiếp nhận #{original_id}) nên không được xử lý lại; số liệu "
               f"của tệp đó đã được thay bằng một tệp hợp lệ gửi sau. Nếu đơn vị muốn dùng lại số liệu của tệp "
               f"này, hãy mở tệp bằng Excel, lưu lại rồi gửi lại: tệp đã lưu lại được tiếp nhận như một tệp mới "
               f"và thay cho tệp gửi sau.")
    load.load_findings(c, [(submission_id, [Finding("warning", "duplicate_of_replaced", message)])])
    c.execute(sa.text("update dq.submission set n_warnings = 1 where submission_id = :s"), {"s": submission_id})


# A valid identity is a few characters (`118`, `2019-2020`, `CN`); a rejected file's is recorded as written, so
# that the district and the Sở see what it said, but cut: dq.submission's index on the three takes at most
# 2,704 bytes a row, and a "Năm học" of 6,000 characters failed the transaction of the whole chunk, and the
# file, left `received`, failed the next night's again.
MAX_IDENTITY_CHARS = 200


def _recorded(value: str | None) -> str | None:
    """An identity value (district, school year, round) as recorded: cut to MAX_IDENTITY_CHARS."""
    if value is None or len(value) <= MAX_IDENTITY_CHARS:
        return value
    return value[: MAX_IDENTITY_CHARS - 1] + "…"


def _verdict_of(received: Received, workbook: ParsedWorkbook) -> Verdict:
    ma_don_vi, nam_hoc, ky = (_recorded(value) for value in workbook.period)
    n_errors = sum(f.severity == "error" for f in workbook.findings)
    n_warnings = sum(f.severity == "warning" for f in workbook.findings)
    status = "rejected" if n_errors or not (ma_don_vi and nam_hoc and ky) else "accepted"
    return Verdict(display_name(received.path), received.submission_id, status, ma_don_vi, nam_hoc, ky, n_errors,
                   n_warnings)


def _read_chunk(settings: Settings, province: ProvinceConfig, chunk: list[Received],
                expected_period: tuple[str, str] | None = None) -> list[ParsedWorkbook]:
    """Read and validate a chunk's files (no warehouse access: runs while earlier chunks are written)."""
    # read together: each sheet's rows of the chunk come as one frame, which validation and loading share
    workbooks = read_workbooks([r.archive_path for r in chunk], max_file_bytes=settings.max_file_bytes,
                               max_uncompressed_bytes=settings.max_uncompressed_bytes)
    for received, workbook in zip(chunk, workbooks, strict=True):
        workbook.file_name = display_name(received.path)
    validate_workbooks(workbooks, province, expected_period=expected_period)
    return workbooks


def _record_chunk(c: sa.Connection, province: ProvinceConfig, chunk: list[Received],
                  workbooks: list[ParsedWorkbook]) -> list[Verdict]:
    """The part of a chunk's transaction that must see every earlier chunk committed (etl.pipeline): the
    year-on-year check, findings, verdicts, and publishing the accepted submissions."""
    history.add_yoy_findings(c, province, workbooks)
    verdicts = [_verdict_of(r, wb) for r, wb in zip(chunk, workbooks, strict=True)]
    load.load_findings(c, [(r.submission_id, wb.findings) for r, wb in zip(chunk, workbooks, strict=True)])
    c.execute(
        sa.text(
            "update dq.submission set ma_don_vi = :ma_don_vi, nam_hoc = :nam_hoc, ky_bao_cao = :ky, "
            "template_version = :version, email = :email, status = :status, n_errors = :n_errors, "
            "n_warnings = :n_warnings, n_infos = :n_infos where submission_id = :sid"
        ),
        [
            {"sid": v.submission_id, "ma_don_vi": v.ma_don_vi, "nam_hoc": v.nam_hoc, "ky": v.ky_bao_cao,
             "version": wb.template_version, "email": wb.header.get("email"),
             # accepted ones stay 'received' until published (publish.sql sets accepted/superseded)
             "status": "rejected" if v.status == "rejected" else "received",
             "n_errors": v.n_errors, "n_warnings": v.n_warnings,
             "n_infos": sum(f.severity == "info" for f in wb.findings)}
            for v, wb in zip(verdicts, workbooks, strict=True)
        ],
    )
    locked = locks.locked_periods(c)
    accepted = [v for v in verdicts if v.status == "accepted"]
    held = [v for v in accepted if (v.nam_hoc, v.ky_bao_cao) in locked]
    if held:
        c.execute(sa.text("update dq.submission set status = 'held' where submission_id = any(:ids)"),
                  {"ids": [v.submission_id for v in held]})
    load.publish_accepted(c, [v.submission_id for v in accepted if v not in held])
    return [replace(v, status="held") if v in held else v for v in verdicts]


def _write_chunk(writer: ChunkWriter, settings: Settings, province: ProvinceConfig,
                 chunk: list[Received], *, last: bool,
                 expected_period: tuple[str, str] | None = None) -> Future[list[Verdict]]:
    """Read and validate a chunk here, then write it in one transaction on the writer: its staging rows
    while the previous chunk publishes, the rest once that one has committed."""
    workbooks = _read_chunk(settings, province, chunk, expected_period)
    layout = combined_layout()  # the chunk may hold files of several template versions
    staged = [(r.submission_id, wb) for r, wb in zip(chunk, workbooks, strict=True)]
    return writer.submit(lambda c: load.load_staging(c, layout, staged),
                         lambda c: _record_chunk(c, province, chunk, workbooks), last=last)


def _quarantine(settings: Settings, chunk: list[Received], verdicts: list[Verdict]) -> None:
    """A copy of each rejected file in quarantine/, once its verdict is committed."""
    for received, verdict in zip(chunk, verdicts, strict=True):
        if verdict.status == "rejected":
            quarantined = settings.quarantine_dir / f"{received.submission_id}_{stored_name(received.path)}"
            quarantined.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(received.archive_path, quarantined)


@contextmanager
def exclusive_ingest(engine: sa.Engine, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """One ingest at a time on a warehouse: a session advisory lock held on a connection of its own for the
    whole run. `tonghop ingest` typed while the nightly task ingests (max_active_runs covers only the same
    DAG) took the file the task had just recorded as one to resume, and both staged it: the task failed on
    staging's key, after the command had published it. The second waits (`on_wait` is told once) and then
    sees what the first left. The lock goes with its connection, so a killed worker does not keep it."""
    with engine.connect() as connection:
        if not connection.exec_driver_sql(f"select pg_try_advisory_lock({INGEST_LOCK})").scalar_one():
            log.warning("another ingest is running on this warehouse: waiting for it to finish")
            if on_wait:
                on_wait()
            connection.exec_driver_sql(f"select pg_advisory_lock({INGEST_LOCK})")
        connection.commit()  # the lock is the session's: no transaction stays open meanwhile
        try:
            yield
        finally:
            try:
                connection.exec_driver_sql(f"select pg_advisory_unlock({INGEST_LOCK})")
                connection.commit()
            except sa.exc.DBAPIError:  # the connection is gone, and its lock with it
                log.warning("ingest lock: connection lost before unlocking (the server released the lock)")


def ingest_files(engine: sa.Engine, settings: Settings, paths: Iterable[Path], *,
                 on_verdict: Callable[[Verdict], None] | None = None,
                 on_progress: Callable[[int, int], None] | None = None,
                 on_skip: Callable[[NotReceived], None] | None = None,
                 on_wait: Callable[[], None] | None = None,
                 expected_period: tuple[str, str] | None = None) -> list[Verdict]:
    """Archive, record, read, validate and load every file; returns one verdict per file, in the order of
    arrival of the chunks. `on_progress(done, total)` is called after each chunk, for long batches.
    A file that cannot be archived now (unreadable, gone, or changing while copied: `NotReceived`) gets no
    verdict and is not recorded: it is logged, passed to `on_skip`, and the batch goes on.
    `expected_period` (nam_hoc, ky_bao_cao): the files are for that round only, and one for another period is
    rejected (`wrong_period`); without it, any period is taken (a district may correct an earlier one).
    Another ingest running on the warehouse is waited for (`on_wait` is told), and folders are scanned after.

    Chunks are written by an `etl.pipeline.ChunkWriter`: while one chunk is written, the next is read."""
    paths = list(paths)
    find_files(paths)  # a path that does not exist is refused at once, not after waiting
    with exclusive_ingest(engine, on_wait):
        return _ingest_files(engine, settings, paths, on_verdict=on_verdict, on_progress=on_progress,
                             on_skip=on_skip, expected_period=expected_period)


def _ingest_files(engine: sa.Engine, settings: Settings, paths: list[Path], *,
                  on_verdict: Callable[[Verdict], None] | None = None,
                  on_progress: Callable[[int, int], None] | None = None,
                  on_skip: Callable[[NotReceived], None] | None = None,
                  expected_period: tuple[str, str] | None = None) -> list[Verdict]:
    """`ingest_files` under the ingest lock. A folder is scanned now; a file named and gone meanwhile (the
    other ingest took it) is not received (`on_skip`)."""
    province = settings.province_config()
    with engine.connect() as connection:  # a template version's new column needs its migration first
        load.check_staging_columns(connection, combined_layout())
    verdicts: list[Verdict] = []
    reported: dict[int, Verdict] = {}
    copies: dict[int, int] = {}  # this run's duplicates of files of this run: id -> the original's id

    def report(verdict: Verdict) -> None:
        if verdict.status == "duplicate" and verdict.ma_don_vi is None and verdict.submission_id in copies:
            # a copy of a file of this run: its original's verdict came first, and says the period
            original = reported.get(copies[verdict.submission_id])
            if original is not None:
                verdict = replace(verdict, ma_don_vi=original.ma_don_vi, nam_hoc=original.nam_hoc,
                                  ky_bao_cao=original.ky_bao_cao)
        reported[verdict.submission_id] = verdict
        verdicts.append(verdict)
        if on_verdict:
            on_verdict(verdict)

    # each chunk written: its future, its files, their places in the arrival order, and the duplicates that
    # arrived among them (reported in their place, not before the earlier files still being written)
    written: deque[tuple[Future[list[Verdict]], list[Received], list[int], list[tuple[int, Verdict]]]] = deque()

    def settle(*, block: bool) -> None:
        """Report the chunks written so far, in order (all of them when `block`)."""
        while written and (block or written[0][0].done()):
            future, chunk, places, duplicates = written.popleft()
            chunk_verdicts = future.result()
            _quarantine(settings, chunk, chunk_verdicts)
            for _, verdict in sorted([*zip(places, chunk_verdicts, strict=True), *duplicates], key=lambda p: p[0]):
                report(verdict)
            if on_progress:
                on_progress(len(verdicts), len(files))

    pending: list[Received] = []
    pending_places: list[int] = []
    pending_duplicates: list[tuple[int, Verdict]] = []
    received_now: set[int] = set()  # this run's submissions: a second copy of one is a duplicate, not a resume
    # In order of arrival: of two identical copies the later is the duplicate, of two versions the later wins.
    # a file named and gone since (the other ingest took it) stays listed: receive_file says it was not received
    listed = find_files([p for p in paths if p.exists()]) + [p for p in paths if not p.exists()]
    own = _own_folders(settings)
    files = sorted((p for p in listed if not _project_file(own, p)), key=_arrival)
    with ChunkWriter(engine) as writer:
        for index, path in enumerate(files, start=1):
            try:
                received = receive_file(engine, path, settings, received_now)
            except NotReceived as skipped:
                log.warning("not received, left for the next run: %s", skipped)
                if on_skip:
                    on_skip(skipped)
                continue
            if received.duplicate_of in received_now:
                copies[received.submission_id] = received.duplicate_of
            received_now.add(received.submission_id)
            if received.duplicate_of:
                # its verdict waits for the files that arrived before it (their chunk's), as they arrived
                duplicate = (index, Verdict(display_name(path), received.submission_id, "duplicate", *received.period))
                if pending:
                    pending_duplicates.append(duplicate)
                else:  # every earlier file is in a chunk written already
                    settle(block=True)
                    report(duplicate[1])
                continue
            pending.append(received)
            pending_places.append(index)
            if len(pending) == CHUNK_SIZE:
                last = index == len(files)
                future = _write_chunk(writer, settings, province, pending, last=last, expected_period=expected_period)
                written.append((future, pending, pending_places, pending_duplicates))
                pending, pending_places, pending_duplicates = [], [], []
                settle(block=False)
        if pending:
            future = _write_chunk(writer, settings, province, pending, last=True, expected_period=expected_period)
            written.append((future, pending, pending_places, pending_duplicates))
        settle(block=True)
    _complete_copies(engine, copies)
    return verdicts


def _complete_copies(engine: sa.Engine, copies: dict[int, int]) -> None:
    """This run's copies of files of this run, once those have their verdicts: the original's district,
    period and address, and the warning when the original was replaced in the same run."""
    if not copies:
        return
    with engine.begin() as c:
        originals = c.execute(
            sa.text("update dq.submission as copy set ma_don_vi = original.ma_don_vi, nam_hoc = original.nam_hoc, "
                    "ky_bao_cao = original.ky_bao_cao, email = original.email from dq.submission as original "
                    "where copy.submission_id = any(:ids) and original.submission_id = copy.duplicate_of "
                    "returning copy.submission_id, original.submission_id, original.status, original.received_at"),
            {"ids": list(copies)},
        ).all()
        for copy_id, original_id, status, received_at in originals:
            if status == "superseded":
                _tell_copy_of_replaced(c, copy_id, original_id, received_at)


def _own_folders(settings: Settings) -> tuple[Path, ...]:
    """tonghop's own folders (archive, quarantine, reports, outbox, the embedded warehouse's data), resolved."""
    return tuple(folder.resolve() for folder in (settings.archive_dir, settings.quarantine_dir, settings.reports_dir,
                                                  settings.outbox_dir, settings.pgdata_dir))


def _project_file(own: tuple[Path, ...], path: Path) -> bool:
    """Whether a file is in one of tonghop's own folders (`_own_folders`): `tonghop ingest ./var` must not take
    the archive for new arrivals, nor copy the database's files."""
    try:
        resolved = path.resolve()
    except OSError:
        return False
    if any(resolved.is_relative_to(folder) for folder in own):
        log.warning("not ingested: %s is one of tonghop's own files", path)
        return True
    return False


def _arrival(path: Path) -> tuple[float, str]:
    """Sort key of arrival: modification time, then name. A file gone since the scan sorts first, and
    `receive_file` reports it as not received."""
    try:
        return (path.stat().st_mtime, path.name)
    except OSError:
        return (float("-inf"), path.name)


def decided_earlier(engine: sa.Engine, paths: list[Path]) -> dict[Path, Verdict]:
    """The verdicts an earlier attempt already gave these very files (same bytes, name and modification
    time), if that attempt died before they left the landing folder (a task retried after a later chunk
    failed, a worker killed): such a file is answered with that verdict, not recorded again as a duplicate
    of itself. Files not decided yet are not in the result (`received` ones are resumed by `receive_file`).
    One query for all of them."""
    if not paths:
        return {}
    keys = {}
    for p in paths:
        try:
            keys[(sha256_of(p), display_name(p), dt.datetime.fromtimestamp(p.stat().st_mtime, tz=dt.UTC))] = p
        except OSError:
            continue  # unreadable or gone: ingest_files reports it as not received
    with engine.connect() as c:
        rows = c.execute(
            sa.text("select distinct on (sha256, file_name, received_at) sha256, file_name, received_at, "
                    "submission_id, status, ma_don_vi, nam_hoc, ky_bao_cao, n_errors, n_warnings "
                    "from dq.submission where sha256 = any(:shas) and status <> 'received' "
                    "order by sha256, file_name, received_at, submission_id"),
            {"shas": sorted({sha for sha, _, _ in keys})},
        ).all()
    found = ((keys.get((row.sha256, row.file_name, row.received_at)), row) for row in rows)
    return {path: _recorded_verdict(path, row) for path, row in found if path is not None}


def decided_since_scan(engine: sa.Engine, scanned: dict[Path, tuple[int, float]]) -> dict[Path, Verdict]:
    """The verdicts of scanned files gone from the landing folder since the scan (`scanned`: each file's size
    and modification time then): an earlier attempt of the same ingest decided them and moved them out, then
    died before its result was kept (a worker killed, its result never stored). Without them the retry
    answered nothing, so the night's roll-up and alerts left those files out. A file is found by its name,
    size and modification time (its `received_at`), the latest such submission decided."""
    gone = {p: at for p, at in scanned.items() if not p.exists()}
    if not gone:
        return {}
    keys = {(display_name(p), size, dt.datetime.fromtimestamp(mtime, tz=dt.UTC)): p
            for p, (size, mtime) in gone.items()}
    with engine.connect() as c:
        rows = c.execute(
            sa.text("select distinct on (file_name, size_bytes, received_at) file_name, size_bytes, received_at, "
                    "submission_id, status, ma_don_vi, nam_hoc, ky_bao_cao, n_errors, n_warnings "
                    "from dq.submission where file_name = any(:names) and status <> 'received' "
                    "order by file_name, size_bytes, received_at, submission_id desc"),
            {"names": sorted({name for name, _, _ in keys})},
        ).all()
    found = ((keys.get((row.file_name, row.size_bytes, row.received_at)), row) for row in rows)
    return {path: _recorded_verdict(path, row) for path, row in found if path is not None}


def _recorded_verdict(path: Path, row: sa.Row) -> Verdict:
    """The verdict an earlier attempt reported for a file, from its dq.submission row: a file accepted then
    superseded by a later one of its batch was reported accepted."""
    status = "accepted" if row.status == "superseded" else row.status
    return Verdict(display_name(path), row.submission_id, status, row.ma_don_vi, row.nam_hoc, row.ky_bao_cao,
                   row.n_errors, row.n_warnings)


def remove_archived(settings: Settings, paths: Iterable[Path]) -> None:
    """Remove each file from the landing folder if the bytes it holds now are in the archive. A file a
    district replaced meanwhile (a corrected version uploaded under the same name while the run was
    ingesting) holds bytes nobody has read: it stays, and the next run takes it."""
    for path in paths:
        try:
            sha256 = sha256_of(path)
        except OSError:
            continue  # gone, or unreadable (never archived, so it stays)
        if (settings.archive_dir / sha256[:2] / sha256 / stored_name(path)).exists():
            path.unlink(missing_ok=True)
        else:
            log.warning("%s changed while it was ingested: left in the landing folder for the next run", path)


def ingest_landing(engine: sa.Engine, settings: Settings, paths: Iterable[Path] | None = None, *,
                   scanned: dict[Path, tuple[int, float]] | None = None,
                   on_verdict: Callable[[Verdict], None] | None = None,
                   on_skip: Callable[[NotReceived], None] | None = None) -> list[Verdict]:
    """Ingest every new file of the landing folder (or the `paths` a scan of it listed); each file leaves
    the landing folder once it has a verdict and its bytes are archived, so the next scan sees only new
    arrivals. A file still there that an interrupted attempt already decided gets that verdict again, and so
    does a file of `scanned` (path: size and modification time at the scan) that such an attempt moved out."""
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    with exclusive_ingest(engine):  # what another ingest left, once it is done
        moved = decided_since_scan(engine, scanned or {})
        files = find_files([settings.landing_dir]) if paths is None else [p for p in paths if p.exists()]
        decided = decided_earlier(engine, files)
        verdicts = [moved[path] if path in moved else decided[path]
                    for path in (paths if paths is not None else files) if path in moved or path in decided]
        if on_verdict:
            for verdict in verdicts:
                on_verdict(verdict)
        new = [path for path in files if path not in decided]
        verdicts += _ingest_files(engine, settings, new, on_verdict=on_verdict, on_skip=on_skip)
        remove_archived(settings, files)
    return verdicts
