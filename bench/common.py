"""What the database benches share: a fresh warehouse, a timer, and the result table.

A benchmark database is always new: on the server of `WAREHOUSE_URL` when it is set (a database
`tonghop_bench_<random>` is created there and dropped afterwards), else on an embedded PostgreSQL
started under a temporary folder and stopped afterwards. It is migrated (`warehouse.prepare`) and
holds the Sơn La configuration (`registry.load_province`), like a fresh production warehouse.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa

from etl import registry, warehouse
from etl.config import DEFAULT_PROVINCE, PROJECT_ROOT, Settings

CONFIG_DIR = PROJECT_ROOT / "config"


@dataclass(frozen=True)
class Result:
    """One line of the summary: our time against the floor measured in the same run."""

    stage: str
    case: str
    ours: float
    floor: float | None
    target: str  # e.g. "≤ 2.0× floor", "< 10 s", "info"
    ok: bool | None  # None: informational row, no target

    @property
    def ratio(self) -> float | None:
        return self.ours / self.floor if self.floor else None


def within(ours: float, floor: float, max_ratio: float) -> bool:
    return ours <= max_ratio * floor


def alternating_medians(
    runs: dict[str, tuple[Callable[[], object], Callable[[], object] | None]], repeat: int = 3, *, warm_up: bool = True
) -> dict[str, float]:
    """Median wall time of each named run, the runs taken in turn, round after round, so that a drift of
    the shared machine (other work, a checkpoint, page-cache write-back) falls on all of them alike instead
    of on whichever was measured during it. `runs` maps a name to (run, reset); `reset`, when given, runs
    untimed before every call of its run. One untimed warm-up round first. The order within a round is
    shuffled (seeded), so that no run always follows the same one."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    order = list(runs)
    shuffle = random.Random(2026).shuffle
    for i in range(repeat + warm_up):
        shuffle(order)
        for name in order:
            run, reset = runs[name]
            if reset is not None:
                reset()
            start = time.perf_counter()
            run()
            if i >= warm_up:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def format_results(results: list[Result]) -> str:
    """The table `stage | case | ours s | floor s | ratio | target | ok`, one row per result."""
    header = ("stage", "case", "ours s", "floor s", "ratio", "target", "ok")
    rows = [
        (
            r.stage,
            r.case,
            f"{r.ours:.3f}",
            "" if r.floor is None else f"{r.floor:.3f}",
            "" if r.ratio is None else f"{r.ratio:.2f}×",
            r.target,
            {True: "ok", False: "MISSED", None: ""}[r.ok],
        )
        for r in results
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)]
    numeric = {2, 3, 4}

    def line(cells: tuple[str, ...]) -> str:
        return " | ".join(
            c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    rule = "-+-".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def print_results(results: list[Result], title: str | None = None) -> None:
    if title:
        print(f"\n{title}")
    print(format_results(results))


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


@contextmanager
def bench_server() -> Iterator[str]:
    """libpq URL of a server to create benchmark databases on: WAREHOUSE_URL's, else a new embedded one."""
    url = os.environ.get("WAREHOUSE_URL")
    if url:
        yield warehouse.libpq_url(Settings.from_env())
        return
    with tempfile.TemporaryDirectory(prefix="tonghop-bench-") as home:
        settings = _settings(Path(home), None)
        started = time.perf_counter()
        server_url = warehouse.start_embedded(settings)
        print(f"embedded PostgreSQL started under {home} in {time.perf_counter() - started:.1f} s")
        try:
            yield server_url
        finally:
            warehouse.stop_embedded(settings)


def _settings(home: Path, warehouse_url: str | None) -> Settings:
    return Settings(home=home, province=DEFAULT_PROVINCE, warehouse_url=warehouse_url, config_dir=CONFIG_DIR)


@contextmanager
def bench_database(server_url: str | None = None) -> Iterator[tuple[Settings, sa.Engine]]:
    """A new, migrated database with the Sơn La configuration, dropped on exit.

    `server_url`: a server from `bench_server()`; without it one is started (and stopped) here."""
    if server_url is None:
        with bench_server() as url, bench_database(url) as ready:
            yield ready
        return
    name = f"tonghop_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(warehouse.sqlalchemy_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"create database {name}")
    try:
        with tempfile.TemporaryDirectory(prefix="tonghop-bench-home-") as home:
            settings = _settings(Path(home), _with_database(server_url, name))
            engine = warehouse.prepare(settings)
            registry.load_province(engine, settings.province_config())
            yield settings, engine
            engine.dispose()
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f"drop database if exists {name} with (force)")
        admin.dispose()
