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
        return cls(
            home=Path(os.environ.get("TONGHOP_HOME", "./var")).resolve(),
            province=os.environ.get("TONGHOP_PROVINCE", DEFAULT_PROVINCE),
            warehouse_url=os.environ.get("WAREHOUSE_URL") or None,
            config_dir=Path(os.environ.get("TONGHOP_CONFIG_DIR", PROJECT_ROOT / "config")).resolve(),
            max_file_bytes=int(os.environ.get("TONGHOP_MAX_FILE_MB", "20")) * 1024 * 1024,
            max_uncompressed_bytes=int(os.environ.get("TONGHOP_MAX_UNCOMPRESSED_MB", "200")) * 1024 * 1024,
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
        return ProvinceConfig(self.config_dir / "provinces" / self.province)


class ProvinceConfig:
    """One province's data: registry, targets, deadlines, norms (config/provinces/<slug>/)."""

    def __init__(self, folder: Path) -> None:
        if not (folder / "province.yaml").exists():
            known = sorted(p.parent.name for p in folder.parent.glob("*/province.yaml"))
            raise FileNotFoundError(
                f"không có cấu hình tỉnh '{folder.name}' (TONGHOP_PROVINCE): thiếu {folder / 'province.yaml'}; "
                f"các tỉnh đã cấu hình: {', '.join(known) or 'không có'}")
        self.folder = folder

    @cached_property
    def meta(self) -> dict:
        return yaml.safe_load((self.folder / "province.yaml").read_text(encoding="utf-8"))

    @property
    def slug(self) -> str:
        return self.meta["slug"]

    @property
    def ma_tinh(self) -> str:
        return str(self.meta["ma_tinh"])

    def _rows(self, name: str) -> list[dict[str, str]]:
        path = self.folder / name
        if not path.exists():
            return []
        with open(path, encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))

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
