"""Alerts to the districts and the summary to the Sở, through a real SMTP server (aiosmtpd) or the outbox.

Submissions and findings are inserted directly (dq.submission, dq.issue), so these tests do not depend
on the reader or the validator."""

from __future__ import annotations

import datetime as dt
import email
import io
import json
import smtplib
import socket
from email import policy
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from etl import alerts
from etl.annotate import AUTHOR, ERROR_COLOR, ERRORS_SHEET, WARNING_COLOR

FROM = "tonghop@so-gddt.example.org"


# ------------------------------------------------------------------ SMTP sink (also used by the reminder tests)
class Sink:
    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self):
        return [(sorted(e.rcpt_tos), email.message_from_bytes(e.content, policy=policy.default))
                for e in self.envelopes]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_smtp(sink, monkeypatch) -> Controller:
    """Start a local SMTP server with this handler, configured as the Airflow connection smtp_default."""
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.delenv("TONGHOP_MAIL_TRANSPORT", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": port,
        "extra": {"disable_tls": True, "disable_ssl": True, "from_email": FROM, "retry_limit": 0}}))
    return controller


@pytest.fixture
def smtp_sink(monkeypatch):
    """A local SMTP server collecting envelopes, configured as the Airflow connection smtp_default."""
    sink = Sink()
    controller = serve_smtp(sink, monkeypatch)
    yield sink
    controller.stop()


@pytest.fixture
def no_smtp(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    monkeypatch.delenv("TONGHOP_MAIL_TRANSPORT", raising=False)


# ------------------------------------------------------------------ warehouse rows
def district_workbook(path: Path) -> Path:
    """A district file: ThongTin, and DoiNgu with a title row and its header on row 3 (keys on row 4)."""
    wb = openpyxl.Workbook()
    info = wb.active
    info.title = "ThongTin"
    for row in (("Phiên bản biểu mẫu", "DA33-MN-v1"), ("Mã đơn vị", "118"), ("Năm học", "2019-2020"),
                ("Kỳ báo cáo", "CN"), ("Email", "ketoan.qn@example.net")):
        info.append(row)
    staff = wb.create_sheet("Đội ngũ")
    staff.append(["BIỂU ĐỘI NGŨ"])
    staff.append([])
    staff.append(["Mã trường", "Tên trường", "Tổng số giáo viên", "GV trong biên chế", "Tổng số CBQL"])
    staff.append(["ma_truong", "ten_truong", "gv_tong", "gv_bien_che", "cbql_tong"])
    staff.append(["14118001", "Trường MN Mường Giàng", 20, 25, 3])
    staff.append(["14118002", "Trường MN Chiềng Bằng", 12, 10, 2])
    wb.save(path)
    return path


def add_submission(engine, settings, *, ma_don_vi: str | None, nam_hoc: str | None = "2019-2020",
                   ky: str | None = "CN", status: str = "accepted", email_: str | None = None,
                   findings: list[dict] = (), received: dt.datetime | None = None,
                   file_name: str | None = None, current: bool | None = None) -> int:
    """Insert one dq.submission (with its archived file) and its dq.issue rows; an accepted one is also made
    the current submission (core.current_submission), as publishing does."""
    received = received or dt.datetime(2020, 6, 10, 9, 30, tzinfo=dt.UTC)
    file_name = file_name or f"Báo cáo {ma_don_vi} {ky}.xlsx"
    settings.archive_dir.mkdir(parents=True, exist_ok=True)
    archive = settings.archive_dir / f"{ma_don_vi}-{ky}-{len(list(settings.archive_dir.iterdir()))}.xlsx"
    district_workbook(archive)
    n_errors = sum(f["severity"] == "error" for f in findings)
    n_warnings = sum(f["severity"] == "warning" for f in findings)
    with engine.begin() as c:
        sid = c.execute(sa.text(
            "insert into dq.submission (file_name, sha256, size_bytes, archive_path, ma_don_vi, nam_hoc, ky_bao_cao, "
            "template_version, email, received_at, status, n_errors, n_warnings) values (:f, md5(random()::text), "
            "1, :a, :m, :n, :k, 'DA33-MN-v1', :e, :r, :s, :ne, :nw) returning submission_id"),
            {"f": file_name, "a": str(archive), "m": ma_don_vi, "n": nam_hoc, "k": ky, "e": email_, "r": received,
             "s": status, "ne": n_errors, "nw": n_warnings}).scalar_one()
        for f in findings:
            c.execute(sa.text(
                "insert into dq.issue (submission_id, severity, rule, sheet, row_number, column_key, value, message) "
                "values (:sid, :severity, :rule, :sheet, :row_number, :column_key, :value, :message)"),
                {"sid": sid, "sheet": None, "row_number": None, "column_key": None, "value": None, **f})
        if current if current is not None else status == "accepted":
            c.execute(sa.text(
                "insert into core.current_submission values (:m, :n, :k, :sid) on conflict (ma_don_vi, nam_hoc, "
                "ky_bao_cao) do update set submission_id = excluded.submission_id"),
                {"m": ma_don_vi, "n": nam_hoc, "k": ky, "sid": sid})
    return sid


REJECTED_FINDINGS = [
    {"severity": "error", "rule": "exceeds_total", "sheet": "Đội ngũ", "row_number": 5, "column_key": "gv_bien_che",
     "value": "25", "message": "GV trong biên chế (25) lớn hơn Tổng số giáo viên (20)"},
    {"severity": "error", "rule": "missing_school", "sheet": "Đội ngũ", "column_key": "ma_truong",
     "value": "14118003", "message": "Thiếu trường 14118003 (Trường MN Chiềng Ơn)"},
    {"severity": "error", "rule": "missing_sheet", "message": "Thiếu trang tính BoiDuong"},
    {"severity": "warning", "rule": "teacher_ratio", "sheet": "Đội ngũ", "row_number": 6, "column_key": "gv_tong",
     "value": "12", "message": "Số giáo viên bình quân một lớp là 6,0"},
    {"severity": "info", "rule": "ignored_sheet", "sheet": "Ghi chú", "message": "Trang tính Ghi chú được bỏ qua"},
]
WARNING_FINDINGS = [
    {"severity": "warning", "rule": "name_mismatch", "sheet": "Đội ngũ", "row_number": 5, "column_key": "ten_truong",
     "value": "MN Muong Giang", "message": "Tên trường khác danh mục: Trường MN Mường Giàng"},
    {"severity": "warning", "rule": "yoy_change", "sheet": "Đội ngũ", "column_key": "gv_tong", "value": "32",
     "message": "Tổng số giáo viên của đơn vị tăng 45 % so với năm học trước"},
]


@pytest.fixture
def night(engine, settings):
    """Tonight: Quỳnh Nhai rejected (3 errors, 1 warning), Thuận Châu accepted with 2 warnings,
    Mường La accepted without findings; Mộc Châu reported on time earlier."""
    add_submission(engine, settings, ma_don_vi="123", received=dt.datetime(2020, 6, 1, tzinfo=dt.UTC))
    late = dt.datetime(2020, 6, 20, 18, 5, tzinfo=dt.UTC)
    return {
        "118": add_submission(engine, settings, ma_don_vi="118", status="rejected", email_="ketoan.qn@example.net",
                              findings=REJECTED_FINDINGS, file_name="Quỳnh Nhai - CN 2019-2020.xlsx", received=late),
        "119": add_submission(engine, settings, ma_don_vi="119", email_="PGD-THUANCHAU@example.org",
                              findings=WARNING_FINDINGS, received=late),
        "120": add_submission(engine, settings, ma_don_vi="120", email_="not an address", received=late),
    }


def body(msg, subtype: str) -> str:
    return msg.get_body(preferencelist=(subtype,)).get_content()


def attachment_workbooks(msg, tmp_path: Path) -> dict[str, openpyxl.Workbook]:
    out = {}
    for part in msg.iter_attachments():
        out[part.get_filename()] = openpyxl.load_workbook(io.BytesIO(part.get_content()))
    return out


def fill(cell) -> str | None:
    return cell.fill.fgColor.rgb if cell.fill.fill_type == "solid" else None


# ------------------------------------------------------------------ tests
def test_districts_and_the_so_are_mailed_over_smtp_once(engine, settings, night, smtp_sink, tmp_path):
    result = alerts.send_nightly_alerts(engine, settings, list(night.values()))
    assert result["sent"] == 3 and result["skipped"] == 0

    mails = {m["Subject"]: (rcpt, m) for rcpt, m in smtp_sink.messages()}
    assert len(mails) == 3, list(mails)
    # district, period and verdict
    rejected_subject = ("[Sở GD&ĐT Sơn La] Phòng GD&ĐT huyện Quỳnh Nhai – báo cáo GDMN năm học 2019-2020, cuối năm: "
                        "BỊ TỪ CHỐI, cần sửa 3 lỗi, 1 cảnh báo")
    accepted_subject = ("[Sở GD&ĐT Sơn La] Phòng GD&ĐT huyện Thuận Châu – báo cáo GDMN năm học 2019-2020, cuối năm: "
                        "ĐÃ CHẤP NHẬN, 2 cảnh báo cần kiểm tra")
    assert rejected_subject in mails and accepted_subject in mails

    # Quỳnh Nhai: the registry address and the one written in the file
    rcpt, msg = mails[rejected_subject]
    assert rcpt == ["ketoan.qn@example.net", "pgd-quynhnhai@example.org"]
    assert msg["From"] == FROM and msg["Reply-To"] == "so-gddt@example.org"
    text = body(msg, "plain")
    assert "Kính gửi: Phòng GD&ĐT huyện Quỳnh Nhai" in text
    assert "BỊ TỪ CHỐI: không số liệu nào của tệp này được sử dụng cho đến khi đơn vị gửi tệp đã sửa" in text
    assert 'Trang tính "Đội ngũ":' in text and "Chung cho cả tệp:" in text
    # the row, the cell of the district's file and the column as labelled there (the key row's text is not
    # what the clerk reads: the label row's is)
    assert ('  - [Lỗi] Dòng 5, ô D5, cột "GV trong biên chế": GV trong biên chế (25) lớn hơn Tổng số giáo viên (20) '
            '(giá trị đã ghi: "25"). Yêu cầu: Số liệu chi tiết không được lớn hơn số tổng tương ứng.\r\n') in text
    # a school left out has no cell and no value written: its code is in the message
    assert ('  - [Lỗi] Cột "Mã trường": Thiếu trường 14118003 (Trường MN Chiềng Ơn). Yêu cầu: Mọi trường đang hoạt '
            'động trong năm học phải có một dòng ở biểu TruongLop và DoiNgu.\r\n') in text  # SMTP's line ends
    assert "Thiếu trang tính BoiDuong" in text
    assert "Số giáo viên bình quân một lớp là 6,0" in text
    assert "Ghi chú được bỏ qua" not in text  # info findings are not mailed
    html_body = body(msg, "html")
    assert "GV trong biên chế (25) lớn hơn Tổng số giáo viên (20)" in html_body and "<table" in html_body
    assert "Sở GD&amp;ĐT Sơn La" in html_body or "Sở Giáo dục và Đào tạo Sơn La" in html_body

    # the annotated workbook: the district's own file, cells filled and commented
    [(name, wb)] = attachment_workbooks(msg, tmp_path).items()
    assert name.startswith("Quỳnh Nhai - CN 2019-2020_danh-dau-loi") and name.endswith(".xlsx")
    assert wb.sheetnames[0] == ERRORS_SHEET
    staff = wb["Đội ngũ"]
    assert fill(staff["D5"]) == ERROR_COLOR and staff["D5"].comment.author == AUTHOR
    assert "lớn hơn Tổng số giáo viên" in staff["D5"].comment.text
    assert fill(staff["C6"]) == WARNING_COLOR and "bình quân" in staff["C6"].comment.text
    assert fill(staff["C5"]) is None and staff["C5"].comment is None
    assert wb[ERRORS_SHEET].max_row == 1 + 4

    # Thuận Châu: accepted with warnings; the file's address is the registry one in other case: sent once
    rcpt, msg = mails[accepted_subject]
    assert rcpt == ["pgd-thuanchau@example.org"]
    assert "CHẤP NHẬN" in body(msg, "plain") and "tăng 45 %" in body(msg, "plain")
    assert 'Cột "Tổng số giáo viên": Tổng số giáo viên của đơn vị tăng 45 %' in body(msg, "plain")

    # the Sở
    summary = next(s for s in mails if s.startswith("[Sở GD&ĐT Sơn La] Tổng hợp tiếp nhận"))
    rcpt, msg = mails[summary]
    assert rcpt == ["so-gddt@example.org"]
    text = body(msg, "plain")
    assert "118 Phòng GD&ĐT huyện Quỳnh Nhai" in text and "bị từ chối, 3 lỗi, 1 cảnh báo" in text
    assert "119 Phòng GD&ĐT huyện Thuận Châu" in text and "chấp nhận, 0 lỗi, 2 cảnh báo" in text
    assert "120 Phòng GD&ĐT huyện Mường La" in text
    period = next(line for line in text.splitlines() if "Năm học 2019-2020, kỳ Tổng kết cả năm" in line)
    assert "3/12 đơn vị đã có báo cáo hợp lệ" in period  # 119, 120 (late) and 123 (on time)
    status = text[text.index(period):]
    assert "Chỉ có tệp bị từ chối: 118 Phòng GD&ĐT huyện Quỳnh Nhai" in status
    assert "Nộp muộn: 119 Phòng GD&ĐT huyện Thuận Châu; 120 Phòng GD&ĐT huyện Mường La" in status
    assert "116 Phòng GD&ĐT thành phố Sơn La" in status.split("Chỉ có")[0]  # missing

    with engine.connect() as c:
        log = c.execute(sa.text(
            "select kind, ma_don_vi, nam_hoc, ky_bao_cao, recipients, transport, outbox_path, submission_ids "
            "from dq.alert_log order by alert_id")).all()
    assert [(r.kind, r.ma_don_vi, r.transport, r.outbox_path) for r in log] == [
        ("finding", "118", "smtp", None), ("finding", "119", "smtp", None), ("summary", None, "smtp", None)]
    assert log[0].nam_hoc == "2019-2020" and log[0].ky_bao_cao == "CN" and log[0].submission_ids == [night["118"]]

    # a retried task sends nothing twice
    again = alerts.send_nightly_alerts(engine, settings, list(night.values()))
    assert again["sent"] == 0 and again["skipped"] == 3
    assert len(smtp_sink.envelopes) == 3


def test_without_a_connection_the_messages_land_in_the_outbox(engine, settings, night, no_smtp, tmp_path):
    result = alerts.send_nightly_alerts(engine, settings, list(night.values()))
    assert result["sent"] == 3
    files = sorted(settings.outbox_dir.glob("*.eml"))
    assert len(files) == 3
    parsed = {m["Subject"]: m for m in (email.message_from_bytes(p.read_bytes(), policy=policy.default)
                                        for p in files)}
    msg = parsed["[Sở GD&ĐT Sơn La] Phòng GD&ĐT huyện Quỳnh Nhai – báo cáo GDMN năm học 2019-2020, cuối năm: "
                 "BỊ TỪ CHỐI, cần sửa 3 lỗi, 1 cảnh báo"]
    assert msg["To"] == "pgd-quynhnhai@example.org, ketoan.qn@example.net"
    assert msg["From"] == "so-gddt@example.org"  # no connection to name a sender: the Sở's address
    assert "Thiếu trang tính BoiDuong" in body(msg, "plain") and "Thiếu trang tính BoiDuong" in body(msg, "html")
    [wb] = attachment_workbooks(msg, tmp_path).values()
    assert fill(wb["Đội ngũ"]["D5"]) == ERROR_COLOR
    with engine.connect() as c:
        paths = c.execute(sa.text("select transport, outbox_path from dq.alert_log order by alert_id")).all()
    assert {t for t, _ in paths} == {"outbox"}
    assert sorted(Path(p) for _, p in paths) == files


def test_one_mail_per_district_and_files_of_unknown_districts(engine, settings, no_smtp):
    hki = add_submission(engine, settings, ma_don_vi="118", ky="HKI", status="rejected",
                         findings=REJECTED_FINDINGS[:1])
    cn = add_submission(engine, settings, ma_don_vi="118", ky="CN", findings=WARNING_FINDINGS[:1])
    stray = add_submission(engine, settings, ma_don_vi="999", status="rejected", email_="ai.do@example.net",
                           findings=[{"severity": "error", "rule": "unknown_district", "sheet": "ThongTin",
                                      "row_number": 2, "column_key": "ma_don_vi", "value": "999",
                                      "message": "Mã đơn vị 999 không có trong danh mục"}])
    lost = add_submission(engine, settings, ma_don_vi=None, nam_hoc=None, ky=None, status="rejected",
                          findings=[{"severity": "error", "rule": "unreadable_file", "message": "Không đọc được tệp"}])
    mails = alerts.build_district_alerts(engine, settings, [hki, cn, stray, lost])
    by_to = {tuple(m.to): m for m in mails}
    assert set(by_to) == {("pgd-quynhnhai@example.org",), ("ai.do@example.net",)}
    both = by_to[("pgd-quynhnhai@example.org",)]
    assert both.subject == ("[Sở GD&ĐT Sơn La] Phòng GD&ĐT huyện Quỳnh Nhai – kết quả tiếp nhận 2 tệp báo cáo GDMN "
                            "(1 bị từ chối, 1 chấp nhận): cần sửa 1 lỗi, 1 cảnh báo")
    assert both.submission_ids == sorted([hki, cn]) and both.nam_hoc is None and len(both.attachments) == 2
    assert "(HKI)" in both.text and "(CN)" in both.text
    stray_mail = by_to[("ai.do@example.net",)]
    assert stray_mail.ma_don_vi is None
    assert stray_mail.subject == ("[Sở GD&ĐT Sơn La] Báo cáo GDMN năm học 2019-2020, cuối năm: BỊ TỪ CHỐI, "
                                  "cần sửa 1 lỗi")
    summary = alerts.build_so_summary(engine, settings, [hki, cn, stray, lost], today=dt.date(2020, 6, 20))
    assert "KHÔNG CÓ ĐỊA CHỈ" in summary.text  # the unreadable file could be told to nobody
    assert "999 (không rõ)" in summary.text


def test_thousands_of_findings_of_one_kind_are_summarised_not_listed(engine, settings, no_smtp):
    # 2,000 rows of numbers without a school code under a table: the clerk needs the kind of error and
    # where it is, not 2,000 identical lines (the attached workbook's sheet "Lỗi cần sửa" lists them all)
    flood = [{"severity": "error", "rule": "unlabelled_row", "sheet": "Trường lớp", "row_number": row,
              "column_key": "ma_truong", "message": f"Dòng {row} có số liệu nhưng không có mã trường"}
             for row in range(11, 2011)]
    sid = add_submission(engine, settings, ma_don_vi="118", status="rejected",
                         findings=flood + REJECTED_FINDINGS[:1])
    [mail] = alerts.build_district_alerts(engine, settings, [sid])
    assert "Số lỗi: 2.001; số cảnh báo: 0." in mail.text and "BỊ TỪ CHỐI" in mail.text
    assert "Dòng 11 có số liệu" in mail.text and "Dòng 2010 có số liệu" not in mail.text
    assert "Còn 1.990 lỗi cùng loại" in mail.text and "dòng 21–2010" in mail.text
    assert "Lỗi cần sửa" in mail.text
    assert "GV trong biên chế (25)" in mail.text  # another kind of error is still listed
    assert len(mail.text.splitlines()) < 60 and len(mail.html) < 50_000
    assert "Còn 1.990 lỗi cùng loại" in mail.html


def test_a_mail_lists_the_sheets_in_the_order_of_the_template(engine, settings, no_smtp):
    # as the clerk fills them (Thông tin first), not alphabetically (Bồi dưỡng before Thông tin)
    found = [{"severity": "error", "rule": "exceeds_total", "sheet": "Bồi dưỡng", "row_number": 7,
              "column_key": "gv_tin_hoc", "value": "30", "message": "GV có chứng chỉ tin học lớn hơn tổng số GV"},
             {"severity": "error", "rule": "missing_value", "sheet": "Thông tin", "row_number": 3,
              "column_key": "ma_don_vi", "message": "Thiếu thông tin bắt buộc Mã đơn vị"}]
    sid = add_submission(engine, settings, ma_don_vi="118", status="rejected", findings=found)
    [mail] = alerts.build_district_alerts(engine, settings, [sid])
    assert mail.text.index("Thiếu thông tin bắt buộc") < mail.text.index("tin học lớn hơn")
    assert mail.html.index("Thiếu thông tin bắt buộc") < mail.html.index("tin học lớn hơn")


def test_every_rule_a_district_is_told_of_says_what_is_expected():
    # the e-mail's "Yêu cầu" column and the annotated cells' comments; info findings (ignored_*) are not mailed
    from etl.annotate import rule_text
    from etl.validate import rules_table

    told = {r["rule"] for r in rules_table() if not r["rule"].startswith("ignored_")}
    assert sorted(code for code in told if not rule_text(code)) == []


def test_a_failed_send_is_not_recorded_and_is_retried(engine, settings, night, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": _free_port(),
        "extra": {"disable_tls": True, "disable_ssl": True, "from_email": FROM, "retry_limit": 0, "timeout": 2}}))
    with pytest.raises(Exception):  # noqa: B017 - whatever the client raises, the task fails
        alerts.send_nightly_alerts(engine, settings, list(night.values()))
    with engine.connect() as c:
        assert c.execute(sa.text("select count(*) from dq.alert_log")).scalar() == 0


def test_a_finding_names_the_cell_and_the_column_as_the_district_labelled_it(engine, settings, no_smtp):
    # the district's own header: "Tổng số GV (người)" in column C (the reader matches it to gv_tong); the
    # clerk searches the file for what the e-mail says, so it quotes that header and the cell
    findings = [
        {"severity": "error", "rule": "formula_error", "sheet": "Đội ngũ", "row_number": 5, "column_key": "gv_tong",
         "value": "#VALUE!", "message": "Ô C5 có lỗi công thức #VALUE!; hãy sửa công thức hoặc nhập số liệu."},
        {"severity": "warning", "rule": "yoy_change", "sheet": "Đội ngũ", "column_key": "gv_tong", "value": "3200",
         "message": "Tổng 'Tổng số giáo viên' của đơn vị 118 là 3200, năm học trước là 320: thay đổi +900 % "
                    "vượt ngưỡng ±30 %."},
    ]
    sid = add_submission(engine, settings, ma_don_vi="118", status="rejected", findings=findings)
    with engine.connect() as c:
        archive = Path(c.execute(sa.text("select archive_path from dq.submission where submission_id = :s"),
                                 {"s": sid}).scalar_one())
    wb = openpyxl.load_workbook(archive)
    wb["Đội ngũ"]["C3"] = "Tổng số GV (người)"
    wb["Đội ngũ"].delete_rows(4)  # no key row: the labels alone
    wb.save(archive)

    [mail] = alerts.build_district_alerts(engine, settings, [sid])
    assert ('  - [Lỗi] Dòng 5, ô C5, cột "Tổng số GV (người)": Ô C5 có lỗi công thức #VALUE!; hãy sửa công thức hoặc '
            'nhập số liệu (giá trị đã ghi: "#VALUE!"). Yêu cầu: Ô không được chứa công thức bị lỗi (#REF!, #DIV/0!, '
            '#VALUE!...) hay công thức chưa được tính.\n') in mail.text
    # a district total is no value the clerk wrote, and the rule does not contradict the province's threshold
    assert ("  - [Cảnh báo] Cột \"Tổng số giáo viên\": Tổng 'Tổng số giáo viên' của đơn vị 118 là 3200, năm học trước "
            "là 320: thay đổi +900 % vượt ngưỡng ±30 %. Yêu cầu: Tổng của đơn vị thường không thay đổi quá ngưỡng "
            "Sở quy định so với báo cáo cuối năm học trước: đề nghị kiểm tra lại.\n") in mail.text
    assert "<td style=\"border: 1px solid #999; padding: 3px 6px; vertical-align: top; background: #ffd6d6\">C5</td>" \
        in mail.html


# ------------------------------------------------------------------ what a file may put in a message's headers
def test_a_file_name_with_a_line_break_or_an_address_no_server_takes_sends_every_mail(engine, settings, smtp_sink):
    # The file's name is in the subject when the file names no school year; the file's own address is what the
    # clerk typed. A line break in the one made Python refuse the header, an address with diacritics made the
    # SMTP client raise: either stopped every message after it, the Sở's summary among them, every retry.
    broken = add_submission(engine, settings, ma_don_vi="118", nam_hoc=None, status="rejected",
                            file_name="Quỳnh Nhai\r\nBcc: ai.do@example.net.xlsx",
                            findings=[{"severity": "error", "rule": "missing_value", "sheet": "ThongTin",
                                       "row_number": 4, "column_key": "nam_hoc", "message": "Thiếu Năm học"}])
    typed = add_submission(engine, settings, ma_don_vi="119", findings=WARNING_FINDINGS[:1],
                           email_="nguyễn.tc@example.org; mailto:ketoan.tc@example.org")
    result = alerts.send_nightly_alerts(engine, settings, [broken, typed])
    assert result["sent"] == 3
    sent = {tuple(rcpt): msg for rcpt, msg in smtp_sink.messages()}
    assert set(sent) == {("pgd-quynhnhai@example.org",), ("ketoan.tc@example.org", "pgd-thuanchau@example.org"),
                         ("so-gddt@example.org",)}
    subject = sent[("pgd-quynhnhai@example.org",)]["Subject"]
    assert subject == ("[Sở GD&ĐT Sơn La] Phòng GD&ĐT huyện Quỳnh Nhai – tệp báo cáo Quỳnh Nhai Bcc: "
                       "ai.do@example.net.xlsx: BỊ TỪ CHỐI, cần sửa 1 lỗi")
    assert sent[("pgd-quynhnhai@example.org",)]["Bcc"] is None
    summary = body(sent[("so-gddt@example.org",)], "plain")
    assert "thư tới: pgd-thuanchau@example.org, ketoan.tc@example.org" in summary


def test_a_files_own_address_hears_of_that_file_only(engine, settings, no_smtp):
    # Whoever can put a file in the landing folder may write any address in it: that address gets the alert
    # about that file, not the district's other files of the night (their findings and annotated copies).
    own = add_submission(engine, settings, ma_don_vi="118", ky="HKI", status="rejected", email_="ketoan.qn@example.net",
                         findings=REJECTED_FINDINGS[:1], file_name="Quỳnh Nhai HKI.xlsx")
    same = add_submission(engine, settings, ma_don_vi="118", ky="CN", email_="KETOAN.QN@example.net",
                          findings=WARNING_FINDINGS[:1], file_name="Quỳnh Nhai CN.xlsx")
    stray = add_submission(engine, settings, ma_don_vi="118", ky="CN", email_="ai.do@example.net",
                           findings=WARNING_FINDINGS[:1], file_name="Quỳnh Nhai CN (sửa).xlsx", current=False)
    mails = {tuple(m.to): m for m in alerts.build_district_alerts(engine, settings, [own, same, stray])}
    assert set(mails) == {("pgd-quynhnhai@example.org", "ketoan.qn@example.net"),
                          ("pgd-quynhnhai@example.org", "ai.do@example.net")}
    clerk, other = mails[("pgd-quynhnhai@example.org", "ketoan.qn@example.net")], mails[
        ("pgd-quynhnhai@example.org", "ai.do@example.net")]
    assert clerk.submission_ids == sorted([own, same]) and other.submission_ids == [stray]
    assert "Quỳnh Nhai HKI.xlsx" not in other.text and "Quỳnh Nhai CN.xlsx" not in other.text
    assert len(other.attachments) == 1 and "Quỳnh Nhai CN (sửa)" in other.attachments[0].name


class RefusingSink(Sink):
    """A server that refuses one recipient, as a relay refuses an address it does not deliver to."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook
        if address.startswith("refused@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_message_the_server_refuses_does_not_stop_the_others(engine, settings, monkeypatch):
    sink = RefusingSink()
    controller = serve_smtp(sink, monkeypatch)
    try:
        refused = alerts.OutgoingMail("finding", ["refused@example.org"], "Thư không gửi được", "t", "<p>t</p>",
                                      dedup_key="finding:test:refused")
        fine = alerts.OutgoingMail("summary", ["so-gddt@example.org"], "Tổng hợp", "t", "<p>t</p>",
                                   dedup_key="summary:test")
        with pytest.raises(smtplib.SMTPRecipientsRefused):  # the task fails: the operator sees it, a retry tries it
            alerts.deliver(engine, settings, [refused, fine])
    finally:
        controller.stop()
    assert [rcpt for rcpt, _ in sink.messages()] == [["so-gddt@example.org"]]
    with engine.connect() as c:
        assert c.execute(sa.text("select dedup_key from dq.alert_log")).scalars().all() == ["summary:test"]


def test_a_file_with_a_long_name_still_gets_its_annotated_copy(engine, settings, no_smtp):
    # `<name>_danh-dau-loi_<id>.xlsx` no longer fit in a file name (255 bytes): the copy was not made and the
    # district got the list without its marked workbook.
    name = "Báo cáo thống kê " * 11 + ".xlsx"
    sid = add_submission(engine, settings, ma_don_vi="118", status="rejected", findings=REJECTED_FINDINGS[:1],
                         file_name=name)
    [mail] = alerts.build_district_alerts(engine, settings, [sid])
    [copy] = mail.attachments
    assert copy.exists() and copy.name.startswith("Báo cáo thống kê Báo cáo") and copy.name.endswith(f"_{sid}.xlsx")
    assert ERRORS_SHEET in openpyxl.load_workbook(copy).sheetnames


def test_a_message_written_to_the_outbox_but_not_recorded_is_not_left_there(engine, settings, night, no_smtp):
    """The warehouse refuses the alert_log row after the message was written to the outbox (a real trigger
    raising, as a full disk or a restart would). Nothing is recorded, so the retry writes the message again:
    the outbox must then hold each message once, not the unrecorded copy besides."""
    with engine.begin() as c:
        c.execute(sa.text(
            "create function dq.refuse_alert_log() returns trigger language plpgsql as "
            "$$ begin raise exception 'could not extend file: No space left on device'; end $$"))
        c.execute(sa.text("create trigger refuse before insert on dq.alert_log "
                          "for each row execute function dq.refuse_alert_log()"))
    with pytest.raises(sa.exc.DBAPIError):
        alerts.send_nightly_alerts(engine, settings, list(night.values()))
    assert not settings.outbox_dir.exists() or list(settings.outbox_dir.iterdir()) == []
    with engine.begin() as c:
        c.execute(sa.text("drop trigger refuse on dq.alert_log"))
        c.execute(sa.text("drop function dq.refuse_alert_log()"))
    sent = alerts.send_nightly_alerts(engine, settings, list(night.values()))
    assert sorted(p.name for p in settings.outbox_dir.iterdir()) == sorted(
        Path(m["outbox_path"]).name for m in sent["messages"])
    assert len(list(settings.outbox_dir.iterdir())) == sent["sent"] == 3


def test_a_file_under_another_districts_code_is_told_to_the_district_its_schools_belong_to(engine, settings,
                                                                                          no_smtp, tmp_path):
    """Vân Hồ's file with Quỳnh Nhai's code (district_mismatch): Vân Hồ's clerk typed a wrong code, and Quỳnh
    Nhai sent nothing; the e-mail goes to Vân Hồ's address (and the file's own), addressed to Vân Hồ."""
    import shutil

    from etl.ingest import ingest_files
    from tests.conftest import SAMPLES

    path = tmp_path / "van-ho-ma-sai.xlsx"
    shutil.copyfile(SAMPLES / "van-ho_2019-2020_CN.xlsx", path)
    book = openpyxl.load_workbook(path)
    code = next(c for r in book["ThongTin"].iter_rows(min_row=1, max_row=30) for c in r if str(c.value) == "128")
    code.value = "118"
    book.save(path)
    verdict, = ingest_files(engine, settings, [path])
    assert verdict.status == "rejected"
    [mail] = alerts.build_district_alerts(engine, settings, [verdict.submission_id])
    assert "pgd-vanho@example.org" in mail.to and "pgd-quynhnhai@example.org" not in mail.to
    assert mail.text.startswith("Kính gửi: Phòng GD&ĐT huyện Vân Hồ,")
    assert "là mã của Phòng GD&ĐT huyện Quỳnh Nhai" in mail.text
