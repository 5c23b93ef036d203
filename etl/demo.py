"""`tonghop demo`: the whole job on generated data, idempotent.

Demo workbooks are generated deterministically under $TONGHOP_HOME/demo/ and only files whose bytes the
warehouse has not seen are put into the landing folder, so a second run re-ingests nothing and leaves
the marts as they were.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import sqlalchemy as sa

from etl import registry, warehouse
from etl.alerts import send_nightly_alerts
from etl.config import ProvinceConfig, ProvinceConfigError, Settings
from etl.generate import generate_province
from etl.ingest import Verdict, ingest_landing, sha256_of
from etl.report import write_annual_report, write_phase_report
from etl.rollup import roll_up_accepted

DEMO_PERIODS = [(f"{y}-{y + 1}", "CN") for y in range(2018, 2025)] + [("2024-2025", "HKI")]


@dataclass
class DemoSummary:
    warehouse_url: str
    landing_dir: Path
    archive_dir: Path
    reports: list[Path] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    generated: int = 0
    outbox_dir: Path | None = None
    alerts_sent: int = 0

    def text(self) -> str:
        counts = {s: sum(v.status == s for v in self.verdicts) for s in ("accepted", "rejected", "duplicate")}
        lines = [
            f"Tệp mẫu đã tạo: {self.generated}; tệp mới đưa vào xử lý: {len(self.verdicts)} "
            f"({counts['accepted']} chấp nhận, {counts['rejected']} bị từ chối, {counts['duplicate']} trùng lặp)",
            f"Kho dữ liệu (warehouse):  {self.warehouse_url}",
            f"    psql \"{self.warehouse_url}\"",
            f"Thư mục tiếp nhận (landing): {self.landing_dir}",
            f"Lưu trữ tệp gốc (archive):   {self.archive_dir}",
            f"Thư gửi đi (outbox, khi chưa cấu hình SMTP): {self.outbox_dir} ({self.alerts_sent} thư mới)",
            "Báo cáo (reports):",
            *[f"    {p}" for p in self.reports],
        ]
        return "\n".join(lines)


def _submitted_on(province: ProvinceConfig, nam_hoc: str, ky: str, ma_don_vi: str) -> dt.datetime:
    """A plausible arrival time for a demo file: a few days before the deadline, varying by district."""
    deadline = province.deadline(nam_hoc, ky)
    return dt.datetime.combine(deadline - dt.timedelta(days=1 + int(ma_don_vi) % 9), dt.time(9, 30))


def generate_demo_files(settings: Settings, province: ProvinceConfig, *, seed: int) -> list[Path]:
    files = []
    for nam_hoc, ky in DEMO_PERIODS:
        out_dir = settings.home / "demo" / f"{nam_hoc}_{ky}"
        paths = generate_province(province, nam_hoc, ky, out_dir, seed=seed)
        for path in paths:
            ma_don_vi = path.name[:3]
            stamp = _submitted_on(province, nam_hoc, ky, ma_don_vi).timestamp()
            os.utime(path, (stamp, stamp))
        files.extend(paths)
    return files


def stage_new_files(engine: sa.Engine, settings: Settings, files: list[Path]) -> int:
    """Copy into landing the files whose bytes the warehouse has not received yet (keeping mtimes)."""
    with engine.connect() as c:
        known = set(c.execute(sa.text("select sha256 from dq.submission")).scalars())
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    staged = 0
    for path in files:
        if sha256_of(path) not in known:
            shutil.copy2(path, settings.landing_dir / path.name)
            staged += 1
    return staged


def run_demo(settings: Settings, *, seed: int = 2025) -> DemoSummary:
    province = settings.province_config()
    if not province.districts or not province.schools:
        # a province shipping its targets only: nothing to generate, and the reports would find no figures
        raise ProvinceConfigError(
            f"tỉnh {province.meta['ten_tinh']} chưa có danh mục đơn vị và trường (districts.csv, schools.csv "
            f"trong {province.folder}): demo tạo tệp mẫu từ danh mục đó. Thêm danh mục của tỉnh, hoặc chạy "
            f"demo với TONGHOP_PROVINCE=son-la.")
    engine = registry.ready_warehouse(settings)
    files = generate_demo_files(settings, province, seed=seed)
    stage_new_files(engine, settings, files)
    verdicts = ingest_landing(engine, settings)
    roll_up_accepted(engine, province, [asdict(v) for v in verdicts])  # as the nightly run does
    alerts = send_nightly_alerts(engine, settings, [v.submission_id for v in verdicts])
    latest = max(nam_hoc for nam_hoc, ky in DEMO_PERIODS if ky == "CN")
    reports = write_annual_report(engine, province, latest, settings.reports_dir)
    # every plan phase of the province's targets (Sơn La: 2019-2020 and 2021-2025; Bắc Kạn: 2018-2019), not a
    # phase of Sơn La's plan that another province does not have
    for phase in sorted({t["phase"] for t in province.targets}):
        reports += write_phase_report(engine, province, phase, settings.reports_dir)
    return DemoSummary(warehouse.libpq_url(settings), settings.landing_dir, settings.archive_dir, reports,
                       verdicts, len(files), settings.outbox_dir, alerts["sent"])
