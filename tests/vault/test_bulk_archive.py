"""``evault import`` of hostile archives: refused before reading, in one line, nothing written;
and an archive's central directory read once, so an import is linear in its files."""

from __future__ import annotations

import resource
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from vault.cli import build_app
from vault.db import make_engine, make_session_factory
from vault.models import ImportJournalEntry, ImportRun

BOMB_MEMBER = 2 * 1024**3  # 2 GiB of zeros: about 2 MB deflated
_MIB = b"\0" * (1 << 20)


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ZIP holding one 2 GiB member of zeros, written as a stream (never 2 GiB in memory)."""
    path = tmp_path_factory.mktemp("bomb") / "stock.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("ok.pdf", b"%PDF-1.7 a small file\n")
        with z.open("licenses/bomb.pdf", "w", force_zip64=True) as member:
            for _ in range(BOMB_MEMBER // len(_MIB)):
                member.write(_MIB)
    assert path.stat().st_size < 20 * 1024**2
    return path


def _tiny_entries(path: Path, count: int) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for i in range(count):
            z.writestr(f"f{i:05d}.pdf", b"%%PDF-1.7 %d\n" % i)
    return path


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated SQLite vault for the CLI; yields its database URL."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    for key, value in {
        "EVAULT_MODE": "demo",
        "EVAULT_DATA_DIR": str(tmp_path / "data"),
        "EVAULT_DATABASE_URL": url,
    }.items():
        monkeypatch.setenv(key, value)
    assert CliRunner().invoke(build_app(), ["db", "upgrade"]).exit_code == 0
    yield url


def _written(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as s:
            runs = s.scalar(select(func.count()).select_from(ImportRun)) or 0
            entries = s.scalar(select(func.count()).select_from(ImportJournalEntry)) or 0
    finally:
        engine.dispose()
    return runs, entries


def _max_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def test_a_zip_bomb_is_refused_before_reading_in_one_line(bomb: Path, cli_env: str) -> None:
    before = _max_rss_bytes()
    result = CliRunner().invoke(build_app(), ["import", str(bomb)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("evault: ") and "licenses/bomb.pdf" in lines[0]
    assert "2147483648 bytes" in lines[0]
    assert _max_rss_bytes() - before < 256 * 1024**2  # nothing near 2 GiB was read
    assert _written(cli_env) == (0, 0)


def test_twenty_thousand_tiny_entries_are_refused_in_one_line(tmp_path: Path, cli_env: str) -> None:
    archive = _tiny_entries(tmp_path / "many.zip", 20_000)
    result = CliRunner().invoke(build_app(), ["import", str(archive)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "20000 entries" in lines[0] and "--max-files" in lines[0]
    assert _written(cli_env) == (0, 0)


def test_a_member_that_expands_too_much_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ratio.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("x.pdf", b"\0" * (4 << 20))  # 4 MiB of zeros: ratio about 1000
    from vault.errors import InvalidInput
    from vault.services.bulk import ArchiveLimits, StockSource

    with pytest.raises(InvalidInput, match=r"x\.pdf expands \d+ times"):
        StockSource.open(path, ArchiveLimits(member_bytes=100 << 20))


def test_total_expanded_size_is_capped(tmp_path: Path) -> None:
    path = tmp_path / "total.zip"
    with zipfile.ZipFile(path, "w") as z:  # stored: ratio 1
        for i in range(3):
            z.writestr(f"{i}.pdf", b"%" * 1000)
    from vault.errors import InvalidInput
    from vault.services.bulk import ArchiveLimits, StockSource

    with pytest.raises(InvalidInput, match="expand to 3000 bytes"):
        StockSource.open(path, ArchiveLimits(total_bytes=2500))


def test_the_central_directory_is_read_once_whatever_the_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The quadratic step was one ZipFile (a full central-directory read) per file and per
    sidecar; now the archive is opened once, so reading every member is linear."""
    from vault.services.bulk import ArchiveLimits, StockSource

    opened: list[str] = []
    real_init = zipfile.ZipFile.__init__

    def counting_init(self: zipfile.ZipFile, *args: object, **kwargs: object) -> None:
        opened.append(str(args[0]) if args else "")
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(zipfile.ZipFile, "__init__", counting_init)
    for count in (50, 150):
        opened.clear()
        archive = tmp_path / f"s{count}.zip"
        with zipfile.ZipFile(archive, "w") as z:
            for i in range(count):
                z.writestr(f"f{i:05d}.pdf", b"%%PDF-1.7 %d\n" % i)
                z.writestr(f"f{i:05d}.json", b"{}")
        opened.clear()
        with StockSource.open(archive, ArchiveLimits()) as source:
            assert len(source.items) == count
            for item in source.items:
                assert source.read(item).startswith(b"%PDF")
                assert source.sidecar(item) == b"{}"
        assert len(opened) == 1, (count, len(opened))
