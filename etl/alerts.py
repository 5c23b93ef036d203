"""Alerts after a nightly ingest: each district told about its findings, and a summary to the Sở.

- `build_district_alerts`: for each district with errors or warnings among the given submissions, ONE
  e-mail in Vietnamese to the registry address (core.district.email) and the address written in the
  file (dq.submission.email; files naming different addresses of their own get one e-mail each, so that an
  address written in a file hears of that file only), listing every finding grouped by file and sheet (row,
  column label, value, message, the rule expected; beyond 15 of one kind on a sheet, the first 10 and a
  summary of the rest), the verdict of each file, with the district's own workbook annotated
  (etl/annotate.py) attached. Info findings are recorded only, never mailed. A file whose district is
  unknown goes to the address written in it, if any; otherwise only the Sở hears of it (summary).
- `build_so_summary`: one e-mail to the Sở (province.yaml `email_so`): tonight's files per district
  (verdict, errors, warnings), and for the periods concerned who has no valid report yet, who was late
  and who only sent rejected files (mart.reporting_status; a district is expected in a school year only
  if it has an open school then, so completeness never exceeds 100 %).
- `send_nightly_alerts`: builds and sends both (etl/mail.py), recording each message in dq.alert_log.

Every message carries a dedup key (findings: district + submissions; summary: the submissions), and
`deliver` sends a message only if its key is not in dq.alert_log yet, under a transaction-level advisory
lock on the key, recording it in the same transaction: a retried task sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import logging
import re
import smtplib
from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa

from etl.annotate import AnnotatedCopy, Place, annotate, canonical_sheet, column_label, rule_text, shown_value
from etl.config import TZ, Settings
from etl.layout import load_layout
from etl.mail import OutgoingMail, SentRecord, send_messages
from etl.names import stored_name

log = logging.getLogger(__name__)
KY_VI = {"HKI": "Sơ kết học kỳ I", "CN": "Tổng kết cả năm"}
KY_SHORT_VI = {"HKI": "học kỳ I", "CN": "cuối năm"}  # as the template's ThongTin offers the round
SEVERITY_VI = {"error": "Lỗi", "warning": "Cảnh báo"}
STATUS_VI = {
    "accepted": "chấp nhận",
    "rejected": "bị từ chối",
    "held": "hợp lệ, chờ mở khóa kỳ báo cáo",
    "superseded": "chấp nhận (đã được thay bằng tệp gửi sau)",
    "duplicate": "trùng với tệp đã gửi trước",
    "received": "đang xử lý",
}
VERDICT_VI = {
    "accepted": "CHẤP NHẬN: số liệu của tệp đã được đưa vào tổng hợp. Đề nghị đơn vị kiểm tra các cảnh báo "
    "dưới đây; nếu số liệu chưa đúng, đơn vị gửi lại tệp đã sửa.",
    "superseded": "CHẤP NHẬN, nhưng đã được thay bằng một tệp hợp lệ gửi sau cho cùng kỳ báo cáo.",
    "rejected": "BỊ TỪ CHỐI: không số liệu nào của tệp này được sử dụng cho đến khi đơn vị gửi tệp đã sửa.",
    "held": "HỢP LỆ NHƯNG CHƯA ĐƯỢC CẬP NHẬT: kỳ báo cáo này đã khóa sổ; số liệu của tệp chỉ được sử dụng "
    "khi Sở mở khóa kỳ báo cáo.",
    "duplicate": "TRÙNG: tệp giống hệt một tệp đã gửi trước, không xử lý lại.",
}
REPORTING_STATUS_VI = {
    "on_time": "đúng hạn",
    "late": "nộp muộn",
    "missing": "chưa nộp",
    "rejected": "chỉ có tệp bị từ chối",
    None: "chưa nộp (chưa đến hạn)",
}
SUBMITTED = ("accepted", "superseded", "held")  # a valid file arrived for the period
# Findings of one kind (severity and rule) on one sheet: up to LISTED_WHEN_FEW are listed one by one; beyond
# that the first MAX_LISTED are, and the rest are summarised (how many, which rows and columns). A misplaced
# block of 2,000 rows otherwise makes a 2 MB e-mail of identical lines that hides every other finding; the
# attached workbook's sheet "Lỗi cần sửa" still lists each of them.
MAX_LISTED = 10
LISTED_WHEN_FEW = 15
# An address as a mail server takes it (ASCII: servers without SMTPUTF8 refuse the rest, and Python's SMTP
# client raised on it, which stopped every alert after it). A file's own address is what a clerk typed: with
# diacritics (a Vietnamese keyboard left on), `mailto:` copied from a link, quotes, a colon (`Email:a@b.vn`,
# which a To header reads as a group of no one); such an address is not written to.
EMAIL_RE = re.compile(r"^[A-Za-z0-9_%+'-]+(?:\.[A-Za-z0-9_%+'-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+"
                      r"[A-Za-z]{2,}$")

# Districts expected to report in a school year: those with at least one registry school open then
# (a closed or merged school is not expected; a district without open schools is not either).
EXPECTED_DISTRICT = """exists (
    select from core.school as sc
    where sc.ma_don_vi = d.ma_don_vi and sc.mo_tu_nam_hoc <= {nam_hoc}
      and (sc.dong_tu_nam_hoc is null or {nam_hoc} < sc.dong_tu_nam_hoc))"""


# ------------------------------------------------------------------ shared helpers
def so_short_name(settings: Settings) -> str:
    """`Sở GD&ĐT Sơn La` from the province configuration (`ten_so_ngan`, else abbreviated `ten_so`)."""
    meta = settings.province_config().meta
    if meta.get("ten_so_ngan"):
        return str(meta["ten_so_ngan"])
    return str(meta.get("ten_so") or f"Sở GD&ĐT {meta.get('ten_tinh', '')}").replace("Giáo dục và Đào tạo", "GD&ĐT")


def so_name(settings: Settings) -> str:
    meta = settings.province_config().meta
    return str(meta.get("ten_so") or so_short_name(settings))


def so_email(settings: Settings) -> str:
    return str(settings.province_config().meta.get("email_so") or "")


def recipients(*addresses: str | None) -> list[str]:
    """Valid addresses, each once (case-insensitive), in order."""
    seen: dict[str, str] = {}
    for address in addresses:
        for part in re.split(r"[,;\s]+", address or ""):
            part = re.sub(r"^mailto:", "", part, flags=re.IGNORECASE)
            if EMAIL_RE.match(part) and part.casefold() not in seen:
                seen[part.casefold()] = part
    return list(seen.values())


def fmt_date(d: dt.date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else ""


def fmt_time(t: dt.datetime | None) -> str:
    return t.astimezone(TZ).strftime("%H:%M %d/%m/%Y") if t else ""


def period_vi(nam_hoc: str | None, ky: str | None) -> str:
    if not nam_hoc:
        return "(chưa xác định được năm học, kỳ báo cáo)"
    return f"năm học {nam_hoc} ({ky or '?'})"


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value))


def html_page(body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"></head>'
        '<body style="font-family: Arial, sans-serif; font-size: 14px">' + body + "</body></html>"
    )


TABLE = "border-collapse: collapse; margin: 4px 0 12px 0"
CELL = "border: 1px solid #999; padding: 3px 6px; vertical-align: top"


def _table(header: list[str], rows: Iterable[list[object]], colors: Iterable[str | None] | None = None) -> str:
    colors = list(colors) if colors is not None else None
    out = [
        f'<table style="{TABLE}"><tr>'
        + "".join(f'<th style="{CELL}; background: #ddd">{esc(h)}</th>' for h in header)
        + "</tr>"
    ]
    for i, row in enumerate(rows):
        bg = f"; background: {colors[i]}" if colors and colors[i] else ""
        out.append("<tr>" + "".join(f'<td style="{CELL}{bg}">{esc(v)}</td>' for v in row) + "</tr>")
    return "".join(out) + "</table>"


# ------------------------------------------------------------------ reading the warehouse
def _submissions(conn: sa.Connection, ids: list[int]) -> list[dict]:
    rows = (
        conn.execute(
            sa.text(
                "select s.submission_id, s.file_name, s.archive_path, s.ma_don_vi, s.nam_hoc, s.ky_bao_cao, s.email, "
                "s.status, s.n_errors, s.n_warnings, s.received_at, d.ten_don_vi, d.email as registry_email, "
                "m.ma_don_vi as schools_district, m.ten_don_vi as schools_ten_don_vi, m.email as schools_email "
                "from dq.submission as s left join core.district as d on d.ma_don_vi = s.ma_don_vi "
                # a file whose schools are all another district's (district_mismatch): that district
                "left join lateral (select sd.ma_don_vi, sd.ten_don_vi, sd.email from staging.truong_lop as t "
                "join core.school as sc using (ma_truong) join core.district as sd on sd.ma_don_vi = sc.ma_don_vi "
                "where t.submission_id = s.submission_id and exists (select from dq.issue as i "
                "where i.submission_id = s.submission_id and i.rule = 'district_mismatch') "
                "group by sd.ma_don_vi, sd.ten_don_vi, sd.email order by count(*) desc limit 1) as m on true "
                "where s.submission_id = any(:ids) order by s.ma_don_vi nulls last, s.received_at, s.submission_id"
            ),
            {"ids": ids},
        )
        .mappings()
        .all()
    )
    return [dict(r) for r in rows]


def _findings(conn: sa.Connection, ids: list[int]) -> dict[int, list[dict]]:
    rows = (
        conn.execute(
            sa.text(
                "select submission_id, severity, rule, sheet, row_number, column_key, value, message from dq.issue "
                "where submission_id = any(:ids) and severity in ('error', 'warning') "
                "order by submission_id, sheet nulls first, row_number nulls first, issue_id"
            ),
            {"ids": ids},
        )
        .mappings()
        .all()
    )
    out: dict[int, list[dict]] = {}
    for r in rows:
        out.setdefault(r["submission_id"], []).append(dict(r))
    return out


# ------------------------------------------------------------------ district alerts
def _counts(findings: list[dict]) -> tuple[int, int]:
    return (sum(f["severity"] == "error" for f in findings), sum(f["severity"] == "warning" for f in findings))


def _tally(n_errors: int, n_warnings: int) -> str:
    if n_errors:
        return f"cần sửa {n_errors} lỗi" + (f", {n_warnings} cảnh báo" if n_warnings else "")
    return f"đã tiếp nhận, {n_warnings} cảnh báo"


# The verdict as the subject says it, in capitals as the body's "Kết quả" line: a clerk sorting the Sở's mail
# sees which files came back without opening them.
SUBJECT_VERDICT = {
    "accepted": "ĐÃ CHẤP NHẬN",
    "superseded": "ĐÃ CHẤP NHẬN",
    "rejected": "BỊ TỪ CHỐI",
    "held": "HỢP LỆ, CHỜ MỞ KHÓA KỲ BÁO CÁO",
    "duplicate": "TRÙNG TỆP ĐÃ GỬI",
}


def _subject(so: str, items: list[tuple[dict, list[dict]]]) -> str:
    """District, period and verdict: `[Sở GD&ĐT Sơn La] Phòng GD&ĐT huyện Quỳnh Nhai – báo cáo GDMN năm học
    2019-2020, cuối năm: BỊ TỪ CHỐI, cần sửa 4 lỗi`. The district is named because the file's own address
    is often a person's who reports for the office, and forwards; a file of an unknown district is named by
    its file name."""
    n_errors = sum(_counts(f)[0] for _, f in items)
    n_warnings = sum(_counts(f)[1] for _, f in items)
    s = items[0][0]
    unit = f"{s['ten_don_vi']} – " if s["ten_don_vi"] else ""
    if len(items) == 1:
        ky = KY_SHORT_VI.get(s["ky_bao_cao"], s["ky_bao_cao"])
        what = (f"báo cáo GDMN năm học {s['nam_hoc']}" + (f", {ky}" if ky else "")
                if s["nam_hoc"] else f"tệp báo cáo {s['file_name']}")
        verdict = SUBJECT_VERDICT.get(s["status"], STATUS_VI.get(s["status"], s["status"]))
        tally = _tally(n_errors, n_warnings) if n_errors else (
            f"{n_warnings} cảnh báo cần kiểm tra" if n_warnings else "")
        return f"[{so}] {_capital(unit + what)}: {verdict}" + (f", {tally}" if tally else "")
    verdicts = [s["status"] for s, _ in items]
    parts = [f"{verdicts.count(v)} {STATUS_VI[v]}" for v in dict.fromkeys(verdicts) if v in STATUS_VI]
    return (f"[{so}] {_capital(unit)}kết quả tiếp nhận {len(items)} tệp báo cáo GDMN ({', '.join(parts)}): "
            f"{_tally(n_errors, n_warnings)}")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _by_sheet(findings: list[dict]) -> list[tuple[str | None, list[dict]]]:
    """Findings by sheet: the file's own first, then the sheets in the template's order (as the clerk fills
    them: ThongTin, TruongLop, DoiNgu...), then any other sheet by name."""
    groups: dict[str | None, list[dict]] = {}
    for f in findings:
        groups.setdefault(f["sheet"], []).append(f)
    order = {name: i for i, name in enumerate(load_layout().sheets)}

    def place(sheet: str | None) -> tuple[int, int, str]:
        if sheet is None:
            return (0, 0, "")
        canonical = canonical_sheet(sheet)
        return (1, order[canonical], sheet) if canonical in order else (2, 0, sheet)

    return sorted(groups.items(), key=lambda kv: place(kv[0]))


def _column_text(f: dict, place: Place | None) -> str:
    """The column as the clerk finds it in the file: its header as written there (else the template's label)."""
    if place and place.header:
        return place.header
    return column_label(f["sheet"], f["column_key"])


def _finding_text(f: dict, place: Place | None = None) -> str:
    """One finding as a line of the e-mail: where (row, the cell in the district's file, the column as
    labelled there), the message, the value as written, and the rule expected."""
    where = []
    if f["row_number"]:
        where.append(f"dòng {f['row_number']}")
    if place:
        where.append(f"ô {place.cell}")
    if f["column_key"]:
        where.append(f'cột "{_column_text(f, place)}"')
    where_text = ", ".join(where)
    head = f"[{SEVERITY_VI[f['severity']]}] " + (where_text[:1].upper() + where_text[1:] + ": " if where else "")
    message = (f["message"] or "").rstrip()
    value = f' (giá trị đã ghi: "{shown_value(f)}")' if shown_value(f) else ""
    if value and message.endswith(".") and not message.endswith(".."):
        message = message[:-1]  # `... giáo viên (giá trị đã ghi: "25").`
    # one full stop after the message, whether or not it ends with one; the rule's own text is left whole
    # (replacing ".." ate the ellipsis of "#VALUE!...")
    end = "" if message.endswith((".", "!", "?")) and not value else "."
    rule = f" Yêu cầu: {rule_text(f['rule'])}" if rule_text(f["rule"]) else ""
    return f"{head}{message}{value}{end}{rule}"


def _listed(on_sheet: list[dict]) -> tuple[list[dict], list[list[dict]]]:
    """The findings of a sheet to list one by one (in their order), and the rest of each kind with too many."""
    kinds: dict[tuple[str, str], list[dict]] = {}
    for f in on_sheet:
        kinds.setdefault((f["severity"], f["rule"]), []).append(f)
    rest = [group[MAX_LISTED:] for group in kinds.values() if len(group) > LISTED_WHEN_FEW]
    cut = {id(f) for group in rest for f in group}
    return [f for f in on_sheet if id(f) not in cut], rest


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _summary_text(rest: list[dict], attached: bool) -> tuple[str, str, str]:
    """(rows, columns, sentence) telling the findings of one kind that are not listed."""
    f = rest[0]
    rows = sorted(r["row_number"] for r in rest if r["row_number"])
    where = (f"dòng {rows[0]}–{rows[-1]}" if rows[0] != rows[-1] else f"dòng {rows[0]}") if rows else ""
    labels = list(dict.fromkeys(column_label(r["sheet"], r["column_key"]) for r in rest if r["column_key"]))
    columns = ", ".join(labels[:3]) + (", ..." if len(labels) > 3 else "")
    kind = SEVERITY_VI[f["severity"]].lower()
    sentence = f"Còn {_thousands(len(rest))} {kind} cùng loại"
    if where:
        sentence += f" ở các {where}" if rows[0] != rows[-1] else f" ở {where}"
    if columns:
        sentence += f", cột \"{columns}\""
    sentence += ", không liệt kê ở đây"
    sentence += (': danh sách đầy đủ ở trang "Lỗi cần sửa" của tệp đính kèm.' if attached
                 else ": đề nghị kiểm tra và sửa tất cả các dòng này.")
    return where, columns, sentence


def _attachment_for(settings: Settings, s: dict, findings: list[dict]) -> AnnotatedCopy | None:
    source = Path(s["archive_path"]) if s["archive_path"] else None
    stem = Path(stored_name(s["file_name"])).stem or "bao-cao"  # short enough for the suffix, safe on a share
    out = settings.home / "annotated" / f"{stem}_danh-dau-loi_{s['submission_id']}.xlsx"
    try:
        return annotate(source or Path("missing.zip"), findings, out)
    except Exception:  # noqa: BLE001 - the e-mail lists every finding even if the copy cannot be made
        log.exception("could not annotate submission %s", s["submission_id"])
        return None


def _district_mail(
    settings: Settings, items: list[tuple[dict, list[dict]]], to: list[str], ten_don_vi: str | None
) -> OutgoingMail:
    so, so_full = so_short_name(settings), so_name(settings)
    attachments: list[Path] = []
    text = [
        f"Kính gửi: {ten_don_vi or 'đơn vị báo cáo'},",
        "",
        f"{so_full} đã nhận tệp báo cáo của đơn vị. Kết quả kiểm tra:",
        "",
    ]
    parts = [
        f"<p>Kính gửi: <b>{esc(ten_don_vi or 'đơn vị báo cáo')}</b>,</p>",
        f"<p>{esc(so_full)} đã nhận tệp báo cáo của đơn vị. Kết quả kiểm tra:</p>",
    ]
    for s, findings in items:
        n_errors, n_warnings = _counts(findings)
        verdict = VERDICT_VI.get(s["status"], s["status"])
        what = (f"năm học {s['nam_hoc']}, kỳ {KY_VI.get(s['ky_bao_cao'], s['ky_bao_cao'])} ({s['ky_bao_cao']})"
                if s["nam_hoc"] and s["ky_bao_cao"] else period_vi(s["nam_hoc"], s["ky_bao_cao"]))
        attachment = _attachment_for(settings, s, findings)
        if attachment:
            attachments.append(attachment.path)
        places = {id(f): place for f, place in zip(findings, attachment.places, strict=True)} if attachment else {}
        text += [
            f"Tệp: {s['file_name']} (nhận lúc {fmt_time(s['received_at'])}, mã tiếp nhận #{s['submission_id']})",
            f"Báo cáo GDMN {what}",
            f"Kết quả: {verdict}",
            f"Số lỗi: {_thousands(n_errors)}; số cảnh báo: {_thousands(n_warnings)}.",
            "",
        ]
        parts.append(
            f'<h3 style="margin-bottom: 2px">Tệp {esc(s["file_name"])}</h3>'
            f'<p style="margin-top: 2px">Báo cáo GDMN {esc(what)}; '
            f"nhận lúc {esc(fmt_time(s['received_at']))}, mã tiếp nhận #{s['submission_id']}.<br>"
            f'<b style="color: {"#b00" if s["status"] == "rejected" else "#060"}">Kết quả: {esc(verdict)}</b><br>'
            f"Số lỗi: {_thousands(n_errors)}; số cảnh báo: {_thousands(n_warnings)}.</p>"
        )
        for sheet, on_sheet in _by_sheet(findings):
            title = f'Trang tính "{sheet}"' if sheet else "Chung cho cả tệp"
            listed, rest = _listed(on_sheet)
            summaries = [(group[0], *_summary_text(group, attachment is not None)) for group in rest]
            text.append(f"{title}:")
            text += [f"  - {_finding_text(f, places.get(id(f)))}" for f in listed]
            text += [f"  - [{SEVERITY_VI[f['severity']]}] {sentence}" for f, _, _, sentence in summaries]
            text.append("")
            parts.append(f'<p style="margin-bottom: 2px"><b>{esc(title)}</b></p>')
            rows = [
                [
                    f["row_number"] or "",
                    places[id(f)].cell if places.get(id(f)) else "",
                    _column_text(f, places.get(id(f))) if f["column_key"] else "",
                    shown_value(f),
                    SEVERITY_VI[f["severity"]],
                    f["message"],
                    rule_text(f["rule"]),
                ]
                for f in listed
            ] + [[where, "", columns, "", SEVERITY_VI[f["severity"]], sentence, rule_text(f["rule"])]
                 for f, where, columns, sentence in summaries]
            colors = [f["severity"] for f in listed] + [f["severity"] for f, *_ in summaries]
            parts.append(
                _table(
                    ["Dòng", "Ô", "Cột", "Giá trị đã ghi", "Mức độ", "Nội dung", "Yêu cầu"],
                    rows,
                    ["#ffd6d6" if severity == "error" else "#fff7c2" for severity in colors],
                )
            )
    if attachments:
        note = (
            "Tệp đính kèm là bản sao tệp của đơn vị: ô có lỗi được tô đỏ, ô có cảnh báo tô vàng, kèm ghi chú "
            'nêu vấn đề và yêu cầu; trang "Lỗi cần sửa" đầu tệp liệt kê toàn bộ.'
        )
        text.append(note)
        parts.append(f"<p>{esc(note)}</p>")
    if any(s["status"] == "rejected" for s, _ in items):
        ask = (
            "Đề nghị đơn vị sửa các lỗi trên tệp báo cáo và gửi lại tệp đã sửa (toàn bộ tệp) cho Sở; "
            "tệp đã sửa sẽ được kiểm tra lại trong đêm nhận được."
        )
        text.append(ask)
        parts.append(f"<p><b>{esc(ask)}</b></p>")
    sign = [
        "",
        "Trân trọng,",
        so_full,
        f"(Thư gửi tự động từ hệ thống tổng hợp báo cáo của Sở; mọi trao đổi xin gửi về {so_email(settings)}.)",
    ]
    text += sign
    parts.append("<p>Trân trọng,<br>" + esc(so_full) + "<br><i>" + esc(sign[-1]) + "</i></p>")
    s0 = items[0][0]
    single_period = len({(s["nam_hoc"], s["ky_bao_cao"]) for s, _ in items}) == 1
    ids = sorted(s["submission_id"] for s, _ in items)
    return OutgoingMail(
        kind="finding",
        to=to,
        subject=_subject(so, items),
        text="\n".join(text) + "\n",
        html=html_page("".join(parts)),
        attachments=attachments,
        ma_don_vi=s0["ma_don_vi"] if s0["ten_don_vi"] else None,
        nam_hoc=s0["nam_hoc"] if single_period else None,
        ky_bao_cao=s0["ky_bao_cao"] if single_period else None,
        submission_ids=ids,
        dedup_key=f"finding:{s0['ma_don_vi'] or '?'}:" + ",".join(map(str, ids)),
        reply_to=so_email(settings) or None,
    )


def _own_addresses(s: dict) -> tuple[str, ...]:
    """The addresses a file names besides its district's registry address (case-folded, sorted)."""
    registry = {a.casefold() for a in recipients(s["registry_email"])}
    return tuple(sorted({a.casefold() for a in recipients(s["email"])} - registry))


def build_district_alerts(engine: sa.Engine, settings: Settings, submission_ids: list[int]) -> list[OutgoingMail]:
    """One e-mail per district with errors or warnings among the given submissions (module docstring)."""
    ids = sorted({int(i) for i in submission_ids})
    if not ids:
        return []
    with engine.connect() as conn:
        submissions = _submissions(conn, ids)
        findings = _findings(conn, ids)
    groups: dict[tuple[str, tuple[str, ...]], list[tuple[dict, list[dict]]]] = {}
    for s in submissions:
        if findings.get(s["submission_id"]):
            if s["schools_district"]:
                # district_mismatch: the file's schools are all another district's, whose clerk most likely
                # typed a wrong code; that district is told (and the file's own address), not the one the code
                # names, which sent nothing
                s = {**s, "ten_don_vi": s["schools_ten_don_vi"], "registry_email": s["schools_email"]}
                key = (s["schools_district"], _own_addresses(s))
            # A known district gets one e-mail for the files that name the same address of their own, if any (a
            # file's address hears of that file only: whoever can put a file in the landing folder may write
            # any address in it, and would otherwise receive the district's other files); a file of an unknown
            # district is told on its own.
            elif s["ten_don_vi"]:
                key = (s["ma_don_vi"], _own_addresses(s))
            else:
                key = (f"#{s['submission_id']}", ())
            groups.setdefault(key, []).append((s, findings[s["submission_id"]]))
    mails = []
    for key, items in groups.items():
        to = recipients(items[0][0]["registry_email"], *(s["email"] for s, _ in items))
        if not to:
            log.warning("no address for %s: the Sở summary reports it", key)
            continue
        mails.append(_district_mail(settings, items, to, items[0][0]["ten_don_vi"]))
    return mails


# ------------------------------------------------------------------ summary to the Sở
def _period_status(conn: sa.Connection, periods: list[tuple[str, str]]) -> list[dict]:
    """Every expected district of each period, with its mart.reporting_status (NULL: not due, nothing sent)."""
    if not periods:
        return []
    rows = (
        conn.execute(
            sa.text(
                "select p.nam_hoc, p.ky_bao_cao, p.deadline, d.ma_don_vi, d.ten_don_vi, rs.status "
                "from core.reporting_period as p cross join core.district as d "
                "left join mart.reporting_status as rs on rs.ma_don_vi = d.ma_don_vi and rs.nam_hoc = p.nam_hoc "
                "  and rs.ky_bao_cao = p.ky_bao_cao "
                "where (p.nam_hoc || '/' || p.ky_bao_cao) = any(:periods) and "
                + EXPECTED_DISTRICT.format(nam_hoc="p.nam_hoc")
                + " order by p.deadline, d.ma_don_vi"
            ),
            {"periods": [f"{n}/{k}" for n, k in periods]},
        )
        .mappings()
        .all()
    )
    return [dict(r) for r in rows]


def _summary_periods(conn: sa.Connection, submissions: list[dict], today: dt.date) -> list[tuple[str, str]]:
    periods = {(s["nam_hoc"], s["ky_bao_cao"]) for s in submissions if s["nam_hoc"] and s["ky_bao_cao"]}
    latest_due = conn.execute(
        sa.text(
            "select nam_hoc, ky_bao_cao from core.reporting_period where deadline < :today "
            "order by deadline desc limit 1"
        ),
        {"today": today},
    ).first()
    if latest_due:
        periods.add((latest_due[0], latest_due[1]))
    return sorted(periods)


def build_so_summary(
    engine: sa.Engine, settings: Settings, submission_ids: list[int], *, today: dt.date | None = None
) -> OutgoingMail:
    """The nightly summary to the Sở: tonight's verdicts per district and who is missing or late."""
    today = today or dt.datetime.now(TZ).date()
    ids = sorted({int(i) for i in submission_ids})
    meta = settings.province_config().meta
    so, so_full = so_short_name(settings), so_name(settings)
    with engine.connect() as conn:
        submissions = _submissions(conn, ids) if ids else []
        status_rows = _period_status(conn, _summary_periods(conn, submissions, today))
    n_rejected = sum(s["status"] == "rejected" for s in submissions)
    subject = (
        f"[{so}] Tổng hợp tiếp nhận báo cáo GDMN ngày {fmt_date(today)}: {len(submissions)} tệp, "
        f"{n_rejected} bị từ chối"
    )
    text = [f"Kính gửi: {so_full},", "", f"Kết quả tiếp nhận báo cáo GDMN ngày {fmt_date(today)}:", ""]
    parts = [f"<p>Kính gửi: {esc(so_full)},</p><p>Kết quả tiếp nhận báo cáo GDMN ngày {esc(fmt_date(today))}:</p>"]
    if submissions:
        header = ["Đơn vị", "Tệp", "Năm học", "Kỳ", "Kết quả", "Số lỗi", "Số cảnh báo", "Đã gửi thư tới"]
        rows = []
        for s in submissions:
            unit = f"{s['ma_don_vi']} {s['ten_don_vi']}" if s["ten_don_vi"] else f"{s['ma_don_vi'] or '?'} (không rõ)"
            to = recipients(s["registry_email"], s["email"]) if (s["n_errors"] or s["n_warnings"]) else []
            rows.append(
                [
                    unit,
                    s["file_name"],
                    s["nam_hoc"] or "?",
                    s["ky_bao_cao"] or "?",
                    STATUS_VI.get(s["status"], s["status"]),
                    s["n_errors"],
                    s["n_warnings"],
                    ", ".join(to) if to else ("KHÔNG CÓ ĐỊA CHỈ" if s["n_errors"] or s["n_warnings"] else ""),
                ]
            )
        for r in rows:
            text.append(f"  - {r[0]}: {r[1]} ({r[2]}, {r[3]}): {r[4]}, {r[5]} lỗi, {r[6]} cảnh báo"
                        + (f"; thư tới: {r[7]}" if r[7] else ""))
        parts.append(_table(header, rows, ["#ffd6d6" if s["status"] == "rejected" else None for s in submissions]))
    else:
        text.append("  Không có tệp nào.")
        parts.append("<p>Không có tệp nào.</p>")
    text += ["", "Tình hình nộp báo cáo:"]
    parts.append("<h3>Tình hình nộp báo cáo</h3>")
    by_period: dict[tuple[str, str], list[dict]] = {}
    for r in status_rows:
        by_period.setdefault((r["nam_hoc"], r["ky_bao_cao"]), []).append(r)
    for (nam_hoc, ky), rows in by_period.items():
        deadline = rows[0]["deadline"]
        valid = [r for r in rows if r["status"] in ("on_time", "late")]
        line = (
            f"Năm học {nam_hoc}, kỳ {KY_VI.get(ky, ky)} (hạn {fmt_date(deadline)}): "
            f"{len(valid)}/{len(rows)} đơn vị đã có báo cáo hợp lệ ({100 * len(valid) // max(len(rows), 1)} %)"
        )
        text.append(f"  {line}")
        parts.append(f"<p><b>{esc(line)}</b></p>")
        lists = []
        for status in ("missing", "rejected", None, "late"):
            names = [f"{r['ma_don_vi']} {r['ten_don_vi']}" for r in rows if r["status"] == status]
            if names:
                label = REPORTING_STATUS_VI[status].capitalize()
                lists.append((label, names))
                text.append(f"    {label}: " + "; ".join(names))
        if lists:
            parts.append(
                "<ul>" + "".join(f"<li>{esc(label)}: {esc('; '.join(names))}</li>" for label, names in lists) + "</ul>"
            )
    text += [
        "",
        "(Thư gửi tự động từ hệ thống tổng hợp báo cáo; chi tiết trong dq.submission, dq.issue, "
        "mart.reporting_status.)",
    ]
    parts.append(
        "<p><i>Thư gửi tự động từ hệ thống tổng hợp báo cáo; chi tiết trong dq.submission, dq.issue, "
        "mart.reporting_status.</i></p>"
    )
    digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:16]
    return OutgoingMail(
        kind="summary",
        to=recipients(meta.get("email_so")),
        subject=subject,
        text="\n".join(text) + "\n",
        html=html_page("".join(parts)),
        submission_ids=ids,
        dedup_key=f"summary:{digest}",
    )


# ------------------------------------------------------------------ sending and recording
def deliver(engine: sa.Engine, settings: Settings, mails: list[OutgoingMail]) -> list[dict]:
    """Send each message unless its dedup key is already in dq.alert_log; record what was sent.

    Per message, one transaction: an advisory lock on the key, the look-up, the send, the insert. A failed
    send rolls back (nothing recorded, so the next run tries again)."""
    done: list[dict] = []
    failures: list[Exception] = []
    for mail in mails:
        if not mail.to:
            log.warning("no recipient for %r: not sent", mail.subject)
            continue
        try:
            done.append(_deliver_one(engine, settings, mail))
        except UNSENDABLE as exc:
            # This message cannot be sent as it is (a header or an address the server refuses): the others still
            # are, the Sở's summary among them; the task then fails, so that the operator sees it and a retry
            # tries this one again (it is not recorded). A server that cannot be reached stops at once.
            log.exception("could not send %r to %s", mail.subject, ", ".join(mail.to))
            failures.append(exc)
    if failures:
        raise failures[0]
    return done


# what one message's sending raises when the message, not the server, is at fault
UNSENDABLE = (ValueError, smtplib.SMTPRecipientsRefused)


def _deliver_one(engine: sa.Engine, settings: Settings, mail: OutgoingMail) -> dict:
    """Send one message unless its dedup key is already in dq.alert_log, and record it (see `deliver`).
    A message written to the outbox whose record is not committed (the warehouse refused the row, or went
    away) is removed again: nothing says it was sent, so the retry writes it anew, and before, the outbox
    then held it twice. (A message an SMTP server took stays sent: the retry may send it once more.)"""
    record: SentRecord | None = None
    try:
        with engine.begin() as conn:
            if mail.dedup_key:
                conn.execute(sa.text("select pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": mail.dedup_key})
                logged = sa.text("select 1 from dq.alert_log where dedup_key = :k")
                if conn.execute(logged, {"k": mail.dedup_key}).first():
                    return {**_describe(mail), "skipped": True}
            [record] = send_messages([mail], settings)
            conn.execute(
                sa.text(
                    "insert into dq.alert_log (kind, ma_don_vi, nam_hoc, ky_bao_cao, submission_ids, due_on, "
                    "dedup_key, recipients, subject, transport, outbox_path, sent_at) "
                    "values (:kind, :ma_don_vi, :nam_hoc, :ky_bao_cao, :submission_ids, :due_on, :dedup_key, "
                    ":recipients, :subject, :transport, "
                    ":outbox_path, :sent_at)"
                ),
                {
                    "kind": mail.kind,
                    "ma_don_vi": mail.ma_don_vi,
                    "nam_hoc": mail.nam_hoc,
                    "ky_bao_cao": mail.ky_bao_cao,
                    "submission_ids": mail.submission_ids,
                    "due_on": mail.due_on,
                    "dedup_key": mail.dedup_key,
                    "recipients": record.recipients,
                    "subject": mail.subject,
                    "transport": record.transport,
                    "outbox_path": str(record.outbox_path) if record.outbox_path else None,
                    "sent_at": record.sent_at,
                },
            )
    except BaseException:
        if record is not None and record.outbox_path is not None:
            record.outbox_path.unlink(missing_ok=True)
        raise
    return {
        **_describe(mail),
        "skipped": False,
        "transport": record.transport,
        "outbox_path": str(record.outbox_path) if record.outbox_path else None,
    }


def _describe(mail: OutgoingMail) -> dict:
    return {
        "kind": mail.kind,
        "ma_don_vi": mail.ma_don_vi,
        "nam_hoc": mail.nam_hoc,
        "ky_bao_cao": mail.ky_bao_cao,
        "to": list(mail.to),
        "subject": mail.subject,
        "dedup_key": mail.dedup_key,
    }


def send_nightly_alerts(engine: sa.Engine, settings: Settings, submission_ids: list[int]) -> dict:
    """Alerts to the districts with findings and the summary to the Sở; nothing when no file arrived."""
    ids = sorted({int(i) for i in submission_ids})
    if not ids:
        return {"sent": 0, "skipped": 0, "messages": []}
    mails = build_district_alerts(engine, settings, ids) + [build_so_summary(engine, settings, ids)]
    messages = deliver(engine, settings, mails)
    return {
        "sent": sum(not m["skipped"] for m in messages),
        "skipped": sum(m["skipped"] for m in messages),
        "messages": messages,
    }
