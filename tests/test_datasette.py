"""The published archive, through Datasette's own test client."""

from __future__ import annotations

import asyncio

import pytest

from nianbao.publish import datasette_app


@pytest.fixture(scope="module")
def get(crawled_demo):
    app = datasette_app(crawled_demo.db)

    def fetch(path: str):
        return asyncio.run(app.client.get(path))

    return fetch


def test_home_page_names_the_archive(get):
    response = get("/")
    assert response.status_code == 200
    assert "政府信息公开工作年度报告档案" in response.text


def test_reports_table_has_its_chinese_title(get):
    response = get("/archive/reports")
    assert response.status_code == 200
    assert "年报 (reports)" in response.text
    assert "芝罘区只楚街道办事处2020年政府信息公开工作年度报告" in response.text


def test_every_table_is_described(get, crawled_demo):
    from nianbao.archive import SCHEMA
    from nianbao.publish import metadata_for

    tables = metadata_for(crawled_demo.db)["databases"]["archive"]["tables"]
    for name, spec in SCHEMA.items():
        assert tables[name]["title"] and tables[name]["description"], name
        assert set(spec["columns"]) <= set(tables[name]["columns"]), name


def test_the_archive_is_published_read_only(get):
    response = get("/archive/-/query?sql=delete+from+reports")
    assert response.status_code == 400
    assert get("/archive.db").status_code in (403, 404)


def test_any_archive_file_gets_the_description(archive_copy, tmp_path):
    other = tmp_path / "other.db"
    archive_copy.rename(other)
    app = datasette_app(other)
    response = asyncio.run(app.client.get("/other/reports"))
    assert response.status_code == 200 and "年报 (reports)" in response.text
