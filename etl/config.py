"""Run-time settings (environment) and the province configuration (data under config/provinces/)."""

from __future__ import annotations

import csv
import datetime as dt
import os
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PROVINCE = "son-la"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")  # the Sở's clock: deadlines, days and times told to people


@dataclass(frozen=True)
class Settings:
    """Where things live. Every value has a working default (interfaces.md, "Configuration")."""

    home: Path
    province: str
    warehouse_url: str | None
    config_dir: Path
    max_file_bytes: int = 20 * 1024 * 1024
    max_uncompressed_bytes: int = 200 * 1024 * 1024

    @classmethod
    def from_env(cls) -> Settings:
        """Each variable unset *or empty* takes its default: `export TONGHOP_HOME=` (or `TONGHOP_HOME=` in an
        .env) put the embedded server and the data folders straight into the current directory, and an empty
        TONGHOP_PROVINCE was reported as a province named 'provinces' with none configured."""
        return cls(
            home=Path(_env("TONGHOP_HOME") or "./var").resolve(),
            province=_env("TONGHOP_PROVINCE") or DEFAULT_PROVINCE,
            warehouse_url=_env("WAREHOUSE_URL"),
            config_dir=Path(_env("TONGHOP_CONFIG_DIR") or PROJECT_ROOT / "config").resolve(),
            max_file_bytes=_megabytes("TONGHOP_MAX_FILE_MB", 20),
            max_uncompressed_bytes=_megabytes("TONGHOP_MAX_UNCOMPRESSED_MB", 200),
        )

    @property
    def landing_dir(self) -> Path:
        return self.home / "landing"

    @property
    def archive_dir(self) -> Path:
        return self.home / "archive"

    @property
    def quarantine_dir(self) -> Path:
        return self.home / "quarantine"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def outbox_dir(self) -> Path:
        return self.home / "outbox"

    @property
    def pgdata_dir(self) -> Path:
        return self.home / "pgdata"

    def province_config(self) -> ProvinceConfig:
        """The province of TONGHOP_PROVINCE, checked (`ProvinceConfig.check`): a Sở's own registry with a
        mistake stops every command and task with what to correct, before anything is read or loaded."""
        province = ProvinceConfig(self.config_dir / "provinces" / self.province)
        province.check()
        return province


def _env(name: str) -> str | None:
    """The variable's value without surrounding blanks; None when unset or empty."""
    return os.environ.get(name, "").strip() or None


def _megabytes(name: str, default: int) -> int:
    """A size limit in MB from the environment, in bytes; anything but a positive whole number is refused
    with the variable's name (int() said only "invalid literal for int() with base 10")."""
    raw = _env(name)
    if raw is None:
        return default * 1024 * 1024
    if not raw.isdecimal() or int(raw) <= 0:
        raise ValueError(f"{name}={raw!r}: phải là một số nguyên dương (đơn vị MB, mặc định {default})")
    return int(raw) * 1024 * 1024


class ProvinceConfigError(ValueError):
    """A province configuration that cannot be used; the message, in Vietnamese, says what to correct."""


class ProvinceConfig:
    """One province's data: registry, targets, deadlines, norms (config/provinces/<slug>/)."""

    def __init__(self, folder: Path) -> None:
        if not (folder / "province.yaml").exists():
            known = sorted(p.parent.name for p in folder.parent.glob("*/province.yaml"))
            raise ProvinceConfigError(
                f"không có cấu hình tỉnh '{folder.name}' (TONGHOP_PROVINCE): thư mục {folder} không có "
                f"province.yaml; các tỉnh đã cấu hình: {', '.join(known) or 'không có'}")
        self.folder = folder
        self._tables: dict[str, tuple[list[str] | None, list[dict[str, str]]]] = {}

    @cached_property
    def meta(self) -> dict:
        try:
            return yaml.safe_load((self.folder / "province.yaml").read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ProvinceConfigError(f"{self.folder / 'province.yaml'} không đọc được (YAML, UTF-8): {exc}") from exc

    def check(self) -> None:
        """Raise ProvinceConfigError listing every problem of province.yaml and the CSV files (etl/config_check.py)."""
        from etl import config_check as cc

        problems = cc.meta_problems(self.meta)
        if problems:  # the CSV checks need the province code
            raise self._error(problems)
        tables = {name: self._table(name) for name in cc.COLUMNS}
        problems = [p for name, (header, _) in tables.items() if header is not None
                    for p in cc.missing_columns(name, header)]
        if problems:
            raise self._error(problems)
        district_codes = {d["ma_don_vi"] for d in self.districts} if tables["districts.csv"][0] else None
        if self.schools and district_codes is None:
            problems.append("schools.csv cần districts.csv (danh mục Phòng GD&ĐT) trong cùng thư mục")
        problems += cc.district_problems(self.districts)
        problems += cc.school_problems(self.schools, self.ma_tinh, district_codes or set())
        with open(PROJECT_ROOT / "config" / "indicators.csv", encoding="utf-8", newline="") as f:
            indicators = {row["indicator"] for row in csv.DictReader(f)}
        problems += cc.target_problems(self.targets, indicators, district_codes)
        if problems:
            raise self._error(problems)

    def _error(self, problems: list[str]) -> ProvinceConfigError:
        shown = problems[:30] + ([f"... và {len(problems) - 30} lỗi khác"] if len(problems) > 30 else [])
        return ProvinceConfigError(f"cấu hình tỉnh '{self.folder.name}' ({self.folder}) có lỗi, cần sửa trước "
                                   f"khi chạy:\n  - " + "\n  - ".join(shown))

    @property
    def slug(self) -> str:
        return self.meta["slug"]

    @property
    def ma_tinh(self) -> str:
        return str(self.meta["ma_tinh"])

    def _table(self, name: str) -> tuple[list[str] | None, list[dict[str, str]]]:
        """A CSV file's header (None when the file is absent) and rows, as a spreadsheet saves them: with
        Excel's byte-order mark ("CSV UTF-8"), cells padded with spaces, short rows (empty cells)."""
        if name not in self._tables:
            self._tables[name] = self._read_table(self.folder / name)
        return self._tables[name]

    @staticmethod
    def _read_table(path: Path) -> tuple[list[str] | None, list[dict[str, str]]]:
        if not path.exists():
            return None, []
        try:
            with open(path, encoding="utf-8-sig", newline="") as f:
                reader = csv.reader(f)
                header = [cell.strip() for cell in next(reader, [])]
                rows = [dict(zip(header, [cell.strip() for cell in row] + [""] * (len(header) - len(row)),
                                 strict=False)) for row in reader if any(cell.strip() for cell in row)]
        except UnicodeDecodeError as exc:
            raise ProvinceConfigError(f"{path} không phải văn bản UTF-8 (byte {exc.start}): trong Excel chọn "
                                      f"Lưu thành > CSV UTF-8 (Comma delimited)") from exc
        return header, rows

    def _rows(self, name: str) -> list[dict[str, str]]:
        return self._table(name)[1]

    @cached_property
    def districts(self) -> list[dict[str, str]]:
        return self._rows("districts.csv")

    @cached_property
    def schools(self) -> list[dict[str, str]]:
        return self._rows("schools.csv")

    @cached_property
    def targets(self) -> list[dict[str, str]]:
        return self._rows("targets.csv")

    @property
    def norms(self) -> dict[str, Decimal]:
        return {k: Decimal(str(v)) for k, v in self.meta["norms"].items()}

    def deadline(self, nam_hoc: str, ky_bao_cao: str) -> dt.date:
        """The round's deadline: a day of the second calendar year of the school year."""
        d = self.meta["deadlines"][ky_bao_cao]
        return dt.date(int(nam_hoc[5:9]), int(d["month"]), int(d["day"]))

    def open_schools(self, ma_don_vi: str, nam_hoc: str) -> list[dict[str, str]]:
        """Registry schools of a district open in a school year (closed or merged ones are not expected)."""
        return [
            s
            for s in self.schools
            if s["ma_don_vi"] == ma_don_vi
            and s["mo_tu_nam_hoc"] <= nam_hoc
            and not (s["dong_tu_nam_hoc"] and s["dong_tu_nam_hoc"] <= nam_hoc)
        ]
