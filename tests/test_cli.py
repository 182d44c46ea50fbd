"""The `nianbao` command line."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner

from nianbao.cli import main

COMMANDS = ["demo", "crawl", "reparse", "serve", "export", "backup", "sources"]


@pytest.mark.parametrize("command", [[]] + [[c] for c in COMMANDS])
def test_every_command_has_help(command):
    result = CliRunner().invoke(main, command + ["--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_sources_lists_the_registry():
    result = CliRunner().invoke(main, ["sources"])
    assert result.exit_code == 0, result.output
    for name in ("烟台市芝罘区人民政府", "淄博市张店区科苑街道办事处", "长春经济技术开发区"):
        assert name in result.output
    assert "unverified" in result.output


def test_a_bad_registry_entry_is_named(tmp_path):
    registry = tmp_path / "sources.yaml"
    registry.write_text("sources:\n  - name: 甲\n    region: {province: 山东省}\n"
                        "    listing: http://a.gov.cn/nb/\n  - name: 乙\n"
                        "    region: {province: 山东省}\n    listing: not-a-url\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["sources", "--registry", str(registry)])
    assert result.exit_code == 1
    assert "entry 2 (乙): 'listing' is not an http(s) URL" in result.output


def test_export_writes_excel_friendly_csv(crawled_demo, tmp_path):
    out = tmp_path / "reports.csv"
    result = CliRunner().invoke(main, ["export", "--db", str(crawled_demo.db), "--where", "year=2021",
                                       "--column", "title", "--column", "publisher", "-o", str(out)])
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["title", "publisher"]
    assert len(rows) == 1 + 5 and all("2021年" in row[0] for row in rows[1:])  # five of 2021


def test_export_filters_figures_by_year_and_search(demo_archive, tmp_path):
    out = tmp_path / "figures.csv"
    result = CliRunner().invoke(main, ["export", "--db", str(demo_archive), "--table", "figures",
                                       "--where", "年度=2021", "--search", "舆情",
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    # the two 2021 reports that write about 舆情 (public opinion), one of them a PDF
    assert sorted(row["发布机构"] for row in rows) == ["世纪街道", "跃进街道办事处"]
    assert {row["年度"] for row in rows} == {"2021"} and "新收申请" in rows[0]


def test_export_refuses_unknown_columns(crawled_demo):
    result = CliRunner().invoke(main, ["export", "--db", str(crawled_demo.db), "--where", "nope=1"])
    assert result.exit_code == 1 and "no column 'nope'" in result.output


def test_reparse_needs_an_archive(tmp_path):
    result = CliRunner().invoke(main, ["reparse", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1 and "no archive" in result.output


def test_serve_names_what_an_old_archive_lacks(archive_copy):
    import sqlite3

    with sqlite3.connect(archive_copy) as connection:
        connection.execute("drop table figures")
    result = CliRunner().invoke(main, ["serve", "--db", str(archive_copy)])
    assert result.exit_code == 1
    assert "lacks figures" in result.output and "nianbao reparse --db" in result.output
    reparsed = CliRunner().invoke(main, ["reparse", "--db", str(archive_copy)])
    assert reparsed.exit_code == 0, reparsed.output

    from nianbao.publish import out_of_date

    assert out_of_date(archive_copy) == []


def test_serve_names_a_half_written_report_as_such_and_serves_the_rest(archive_copy, monkeypatch):
    import sqlite3

    import nianbao.publish

    with sqlite3.connect(archive_copy) as connection:  # what an older version's crash left
        connection.execute("delete from figures where rowid = (select min(rowid) from figures)")
    served = []
    monkeypatch.setattr(nianbao.publish, "serve", lambda db, host, port: served.append(db))
    result = CliRunner().invoke(main, ["serve", "--db", str(archive_copy)])
    assert result.exit_code == 0, result.output
    assert "1 report(s) were left half-written" in result.output and "older version (it" not in result.output
    assert served == [str(archive_copy)]


def test_serve_warns_of_an_old_archives_missing_indexes_and_the_next_write_adds_them(archive_copy, monkeypatch):
    import sqlite3

    import nianbao.publish
    from nianbao.archive import open_archive

    with sqlite3.connect(archive_copy) as connection:
        connection.execute("drop index [idx_figures_年度_新收申请]")
    monkeypatch.setattr(nianbao.publish, "serve", lambda db, host, port: None)
    result = CliRunner().invoke(main, ["serve", "--db", str(archive_copy)])
    assert result.exit_code == 0, result.output
    assert "lacks 1 of the site's indexes" in result.output
    open_archive(archive_copy).close()  # what a crawl or a reparse does first
    assert nianbao.publish.missing_indexes(archive_copy) == []


def test_backup_copies_the_archive_and_then_only_what_is_new(archive_copy, tmp_path):
    import sqlite3

    from nianbao.store import ContentStore, files_dir

    destination = tmp_path / "backup"
    result = CliRunner().invoke(main, ["backup", "--db", str(archive_copy), str(destination)])
    assert result.exit_code == 0, result.output
    copy = destination / "archive.db"
    with sqlite3.connect(archive_copy) as original, sqlite3.connect(copy) as copied:
        for table in ("reports", "documents", "cells", "figures", "reports_fts"):
            sql = f"select * from [{table}] order by rowid"
            assert copied.execute(sql).fetchall() == original.execute(sql).fetchall(), table
        digests = [row[0] for row in copied.execute("select sha256 from documents")]
    store = ContentStore(files_dir(copy))
    assert all(store.read(digest) == ContentStore(files_dir(archive_copy)).read(digest) for digest in digests)
    again = CliRunner().invoke(main, ["backup", "--db", str(archive_copy), str(destination)])
    assert "stored files: 0 copied, 23 already there" in again.output


def test_the_site_is_a_plain_datasette_command_too(demo_archive, tmp_path):
    """`nianbao serve --datasette-command` prints a `datasette serve` line that serves the
    same site: the saved queries, the report page, the charts, the search."""
    import json
    import shlex
    import sys
    import urllib.request
    from pathlib import Path

    from .conftest import free_port, serving

    port = free_port()
    result = CliRunner().invoke(main, ["serve", "--db", str(demo_archive), "--port", str(port),
                                       "--datasette-command", str(tmp_path / "site.json")])
    assert result.exit_code == 0, result.output
    command = shlex.split(result.output.strip())
    assert command[:3] == ["datasette", "serve", str(demo_archive)]
    assert json.loads((tmp_path / "site.json").read_text())["databases"]["archive"]["queries"]["by_year"]
    with serving([Path(sys.executable).with_name("datasette"), *command[1:]], port) as base:
        digest = json.loads(urllib.request.urlopen(base + "/archive/documents.json?_shape=array&_size=1")
                            .read())[0]["sha256"]
        pages = {"/archive/refusals_by_reason": "国家秘密", "/charts": "chart-data",
                 "/archive/reports.json?_search=%E5%A4%8D%E8%AE%AE&_shape=array": "url",
                 "/-/archive/" + digest: ""}
        for page, expected in pages.items():
            with urllib.request.urlopen(base + page, timeout=30) as answer:
                assert answer.status == 200 and expected in answer.read().decode("utf-8", "replace"), page


def test_export_all_zips_every_public_table_with_a_readme(demo_archive, tmp_path):
    import sqlite3
    import zipfile

    result = CliRunner().invoke(main, ["export", "--db", str(demo_archive), "--all", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    path = result.stdout.strip().splitlines()[-1]
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        assert {"reports.csv", "figures.csv", "bodies.csv", "cells.csv", "README.txt"} <= names
        assert not {"report_cells.csv", "cell_keys.csv", "reports_fts.csv"} & names
        figures = archive.read("figures.csv")
        readme = archive.read("README.txt").decode("utf-8")
    assert figures.startswith("\ufeff".encode("utf-8"))
    rows = list(csv.DictReader(io.StringIO(figures.decode("utf-8-sig"))))
    with sqlite3.connect(demo_archive) as connection:
        assert len(rows) == connection.execute("select count(*) from figures").fetchone()[0]
    assert "figures.csv：年报数字" in readme and "  - 新收申请：" in readme
