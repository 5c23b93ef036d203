"""etl/read.py on broken files: every one gets a ParsedWorkbook, quickly, never an exception."""

from __future__ import annotations

import random
import time
import zipfile
from pathlib import Path

import pytest

from etl.model import ParsedWorkbook
from etl.read import _Member, _plain_zip_listing, _sheet_part, read_workbook
from tests.etl.test_read import valid_book, write_xlsx

SECONDS_PER_FILE = 5.0


@pytest.fixture(scope="module")
def valid_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    book, _ = valid_book(8)
    return write_xlsx(tmp_path_factory.mktemp("fuzz") / "valid.xlsx", book).read_bytes()


def read_bounded(path: Path, **limits: int) -> ParsedWorkbook:
    start = time.perf_counter()
    result = read_workbook(path, **limits)
    assert time.perf_counter() - start < SECONDS_PER_FILE, path.name
    assert isinstance(result, ParsedWorkbook)
    return result


def only_finding(result: ParsedWorkbook) -> tuple[str, str]:
    assert len(result.findings) == 1, result.findings
    finding = result.findings[0]
    assert finding.severity == "error"
    return finding.rule, finding.message


def test_the_unmutated_file_reads_cleanly(tmp_path: Path, valid_bytes: bytes) -> None:
    path = tmp_path / "ok.xlsx"
    path.write_bytes(valid_bytes)
    assert not read_bounded(path).has_errors()


@pytest.mark.parametrize("fraction", [0.0001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99])
def test_truncated_workbook(tmp_path: Path, valid_bytes: bytes, fraction: float) -> None:
    path = tmp_path / "truncated.xlsx"
    path.write_bytes(valid_bytes[: max(1, int(len(valid_bytes) * fraction))])
    rule, message = only_finding(read_bounded(path))
    assert rule == "unreadable_file"
    assert message.startswith("Tệp không đọc được")


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.99])
def test_a_truncated_upload_is_told_in_vietnamese_with_what_to_do(tmp_path: Path, valid_bytes: bytes,
                                                                   fraction: float) -> None:
    # the district read the zip library's English ("BadZipFile: File is not a zip file") in its e-mail
    path = tmp_path / "truncated.xlsx"
    path.write_bytes(valid_bytes[: int(len(valid_bytes) * fraction)])
    assert only_finding(read_bounded(path)) == (
        "unreadable_file", "Tệp không đọc được: tệp bị hỏng hoặc không đầy đủ (có thể tệp chưa được tải lên hết). "
                           "Hãy mở tệp bằng Excel, lưu lại dưới dạng Excel Workbook (.xlsx) rồi gửi lại.")


@pytest.mark.parametrize("seed", range(40))
def test_byte_mutated_workbook(tmp_path: Path, valid_bytes: bytes, seed: int) -> None:
    rng = random.Random(seed)
    data = bytearray(valid_bytes)
    for _ in range(rng.choice([1, 4, 32, 256])):
        position = rng.randrange(len(data))
        data[position] = rng.randrange(256)
    path = tmp_path / "mutated.xlsx"
    path.write_bytes(bytes(data))
    result = read_bounded(path)
    assert all(f.message for f in result.findings)


@pytest.mark.parametrize("seed", range(10))
def test_mutated_sheet_xml_inside_a_valid_zip(tmp_path: Path, valid_bytes: bytes, seed: int) -> None:
    """Damage past the zip layer: the XML calamine parses, re-zipped with correct checksums."""
    rng = random.Random(seed)
    source = tmp_path / "source.xlsx"
    source.write_bytes(valid_bytes)
    target = tmp_path / "xml-mutated.xlsx"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = bytearray(old.read(info))
            if info.filename.endswith(".xml") and rng.random() < 0.5:
                for _ in range(rng.choice([1, 8, 64])):
                    data[rng.randrange(len(data))] = rng.choice(b"<>/\"'=&x0 ")
            new.writestr(info.filename, bytes(data))
    read_bounded(target)


def test_encrypted_ole_container(tmp_path: Path) -> None:
    path = tmp_path / "protected.xlsx"
    path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + bytes(random.Random(1).randbytes(4096)))
    rule, message = only_finding(read_bounded(path))
    assert rule == "unreadable_file"
    assert "mật khẩu" in message


def test_text_file_renamed_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "notes.xlsx"
    path.write_text("Số liệu gửi sau.\n", encoding="utf-8")
    rule, message = only_finding(read_bounded(path))
    assert rule == "unreadable_file"
    assert "không phải tệp Excel" in message


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    assert only_finding(read_bounded(path)) == ("unreadable_file", "Tệp không đọc được: tệp rỗng.")


def test_missing_file(tmp_path: Path) -> None:
    rule, _ = only_finding(read_bounded(tmp_path / "absent.xlsx"))
    assert rule == "unreadable_file"


def test_oversized_file(tmp_path: Path, valid_bytes: bytes) -> None:
    path = tmp_path / "big.xlsx"
    path.write_bytes(valid_bytes)
    rule, message = only_finding(read_bounded(path, max_file_bytes=1000))
    assert rule == "file_too_large"
    assert message.startswith("Tệp quá lớn")


def test_zip_bomb_csv_variant(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("TruongLop.csv", b"0" * 20_000_000)
    assert path.stat().st_size < 100_000
    rule, message = only_finding(read_bounded(path, max_uncompressed_bytes=1_000_000))
    assert rule == "file_too_large"
    assert "giải nén" in message


def test_zip_bomb_xlsx(tmp_path: Path, valid_bytes: bytes) -> None:
    source = tmp_path / "source.xlsx"
    source.write_bytes(valid_bytes)
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, old.read(info))
        new.writestr("xl/media/padding.bin", b"\0" * 30_000_000)
    rule, _ = only_finding(read_bounded(path, max_uncompressed_bytes=5_000_000))
    assert rule == "file_too_large"


def test_zip_without_workbook_or_csv(tmp_path: Path) -> None:
    path = tmp_path / "photos.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("scan.jpg", b"\xff\xd8\xff")
    rule, message = only_finding(read_bounded(path))
    assert rule == "unreadable_file"
    assert "zip" in message


def test_csv_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("ThongTin.csv", "ma_don_vi,118\nnguoi_lap,Vì Thị Xuân\n".encode("utf-16"))
    rule, message = only_finding(read_bounded(path))
    assert rule == "unreadable_file"
    assert "UTF-8" in message


def _zipfile_listing(path: Path) -> tuple[set[str], int, list[_Member]] | type[BaseException]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except BaseException as exc:  # noqa: BLE001 - the kind of failure is what is compared
        return type(exc)
    worksheets = [_Member(m.header_offset, m.compress_size, m.file_size, m.compress_type, m.flag_bits)
                  for m in members
                  if m.filename[:14].casefold() == "xl/worksheets/" and m.filename[-4:].casefold() == ".xml"]
    return {m.filename for m in members}, sum(m.file_size for m in members), worksheets


@pytest.mark.parametrize("seed", range(300))
def test_plain_zip_listing_is_zipfiles_or_none(tmp_path: Path, valid_bytes: bytes, seed: int) -> None:
    """The struct reading of the central directory answers only where zipfile reads the same listing."""
    rng = random.Random(seed)
    data = bytearray(valid_bytes)
    if seed % 10 == 0:
        data += b"comment"  # an archive comment (the end record's length left 0): zipfile finds none
    elif seed % 10 == 1:
        data = bytearray(b"prefix") + data  # data before the archive: offsets shifted
    for _ in range(rng.choice([1, 2, 4])):
        data[len(data) - 1 - rng.randrange(min(len(data), 1200))] = rng.randrange(256)  # the directory area
    path = tmp_path / "mutated.xlsx"
    path.write_bytes(bytes(data))
    listing = _plain_zip_listing(path.read_bytes())
    assert listing is None or listing == _zipfile_listing(path)


def test_plain_zip_listing_of_a_valid_workbook(tmp_path: Path, valid_bytes: bytes) -> None:
    path = tmp_path / "ok.xlsx"
    path.write_bytes(valid_bytes)
    assert _plain_zip_listing(path.read_bytes()) == _zipfile_listing(path)


# ------------------------------------------------------------------ hostile archives and XML
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_zip_of_thousands_of_entries_is_refused_at_once(tmp_path: Path, valid_bytes: bytes, kind: str) -> None:
    # Each member costs the reader a look (a CSV that is no sheet is reported as ignored): 60,000 empty entries
    # took 17 s and made 60,000 findings, and the 20 MB a file may weigh hold 180,000.
    path = tmp_path / f"many.{'zip' if kind == 'csv' else 'xlsx'}"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        if kind == "xlsx":
            source = tmp_path / "source.xlsx"
            source.write_bytes(valid_bytes)
            with zipfile.ZipFile(source) as old:
                for info in old.infolist():
                    archive.writestr(info.filename, old.read(info))
        else:
            archive.writestr("ThongTin.csv", "Mã đơn vị,118\n")
        for i in range(12_000):
            archive.writestr(f"rac/{i}.csv" if kind == "csv" else f"xl/media/{i}.bin", b"a,b\n")
    rule, message = only_finding(read_bounded(path))
    assert rule == "file_too_large"
    assert "vượt giới hạn 10.000 tệp" in message


def _with_part(valid_bytes: bytes, path: Path, part: str, change) -> Path:
    source = path.with_name("source.xlsx")
    source.write_bytes(valid_bytes)
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info)
            new.writestr(info.filename, change(data) if info.filename == part else data)
    return path


LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a0 "lol">'
          + b"".join(b'<!ENTITY a%d "%s">' % (i, b"&a%d;" % (i - 1) * 10) for i in range(1, 10)) + b"]>")


@pytest.mark.parametrize("attack", ["billion_laughs", "external_entity"])
def test_entities_in_the_workbook_xml_are_never_expanded_or_fetched(tmp_path: Path, valid_bytes: bytes,
                                                                     attack: str) -> None:
    # The reader opens xl/workbook.xml itself (hidden sheets, a sheet's part): 10**9 "lol"s or /etc/passwd in
    # a sheet's name must give a verdict in bounded time, and no file outside the workbook is read.
    def change(xml: bytes) -> bytes:
        body = xml.split(b"?>", 1)[1]
        if attack == "billion_laughs":
            return LAUGHS + body.replace(b'name="ThongTin"', b'name="&a9;"')
        return (b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                + body.replace(b'name="ThongTin"', b'name="&x;"'))

    result = read_bounded(_with_part(valid_bytes, tmp_path / "entities.xlsx", "xl/workbook.xml", change))
    assert result.has_errors()
    assert not [f for f in result.findings if "root:" in (f.message or "") or "lollol" in (f.message or "")]


def _with_cells(valid_bytes: bytes, path: Path, cells: bytes) -> Path:
    """The valid workbook with these cells appended to its DoiNgu sheet's data."""
    path.write_bytes(valid_bytes)
    with zipfile.ZipFile(path) as book:
        part = _sheet_part(book, "DoiNgu")
    return _with_part(valid_bytes, path, part, lambda xml: xml.replace(b"</sheetData>", cells + b"</sheetData>"))


@pytest.mark.parametrize(("cells", "far"), [
    (b'<row r="1048576"><c r="J1048576" t="inlineStr"><is><t>x</t></is></c></row>', "J1048576"),
    (b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>', "XFD1048576"),
    (b'<row r="2000000000"><c r="A2000000000" t="inlineStr"><is><t>x</t></is></c></row>', "A2000000000"),
    (b'<row r="400">' + b'<c t="inlineStr"><is><t>x</t></is></c>' * 16_000 + b"</row>", "WQJ400"),
], ids=["stray_last_row", "last_cell", "beyond_excel", "cells_without_references"])
def test_a_cell_far_from_the_table_is_refused_before_the_sheet_is_laid_out(tmp_path: Path, valid_bytes: bytes,
                                                                          cells: bytes, far: str) -> None:
    # calamine lays a sheet out as one block from its first cell to its last: a stray character at J1048576
    # took 25 s and 1.5 GB, XFD1048576 or A2000000000 (a 2 KB file may say it) made it ask for terabytes, which
    # kills the process (no exception: the night died, every night, the file staying `received`).
    rule, message = only_finding(read_bounded(_with_cells(valid_bytes, tmp_path / "far.xlsx", cells)))
    assert rule == "file_too_large"
    assert f"trang tính 'DoiNgu' có ô {far}, cách quá xa bảng số liệu" in message
    assert "xoá các ô thừa ở cuối trang tính" in message


def test_a_csv_line_far_wider_than_the_table_is_refused_before_the_grid_is_laid_out(tmp_path: Path) -> None:
    # A CSV sheet is a grid as wide as its longest line: 100,000 commas on one line over 100,000 short lines
    # (a 300 KB file) asked for 10 billion cells, and the worker was killed for its memory.
    path = tmp_path / "wide.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ThongTin.csv", "Mã đơn vị,118\n")
        archive.writestr("TruongLop.csv", "x\n" * 10 + "," * 100_000 + "\n" + "x\n" * 100_000)
    rule, message = only_finding(read_bounded(path))
    assert rule == "file_too_large"
    assert message.startswith("Tệp quá lớn: TruongLop.csv có dòng 11 gồm 100.001 cột")
