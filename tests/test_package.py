"""nianbao as a user installs it: a wheel, in a fresh environment, away from the checkout.
The wheel must carry everything the product reads (the site's configuration, the demo
portal, the registry, the vocabularies) and nothing of the test data machinery."""

from __future__ import annotations

import filecmp
import json
import shutil
import subprocess
import sys
import sysconfig
import urllib.request
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from datasette.utils import tilde_encode

from nianbao.demo import PORTAL_DIR

from .conftest import ROOT, free_port, serving


def test_the_shipped_demo_portal_is_what_its_generator_builds(tmp_path):
    from tools.demo_portal import build_site

    build_site(tmp_path / "portal")
    shipped = sorted(p.relative_to(PORTAL_DIR) for p in PORTAL_DIR.rglob("*") if p.is_file())
    built = sorted(p.relative_to(tmp_path / "portal") for p in (tmp_path / "portal").rglob("*") if p.is_file())
    assert shipped == built
    _, mismatch, errors = filecmp.cmpfiles(PORTAL_DIR, tmp_path / "portal", [str(p) for p in shipped], shallow=False)
    assert mismatch == [] and errors == [], "run `python -m tools.demo_portal` and commit the result"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The wheel built from this checkout, installed into a new virtualenv whose only other
    packages are the pinned dependencies (the project's own .venv, added by a .pth file)."""
    folder = tmp_path_factory.mktemp("wheel")
    # built from a copy, so that the build leaves nothing in the checkout
    source = folder / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", ".pytest_cache", "archive.db*", "archive-files", "artifacts"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(folder), str(source)], check=True, cwd=folder)
    wheel, = folder.glob("nianbao-*.whl")
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # the dependencies, not the checkout: a .pth line does not run the editable install's hook
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                    str(wheel)], check=True)
    return wheel, venv


def test_the_wheel_carries_the_product_and_no_test_data(installed):
    wheel, venv = installed
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("nianbao/site/metadata.yml", "nianbao/site/datasette.yml", "nianbao/site/plugins/search.py",
                   "nianbao/site/templates/row.html", "nianbao/site/static/nianbao.css",
                   "nianbao/demo/portal/manifest.json", "nianbao/sources.yaml",
                   "nianbao/sources-imported.yaml", "nianbao/regions.yaml", "nianbao/site/plugins/coverage.py",
                   "nianbao/site/templates/pages/coverage.html",
                   "parsers/vocabulary.yaml", "parsers/template.yaml", "crawler/selectors.yaml"):
        assert needed in names, needed
    assert not [n for n in names if n.startswith(("tools/", "tests/"))]
    where = subprocess.run([venv / "bin" / "python", "-c", "import nianbao; print(nianbao.__file__)"],
                           capture_output=True, text=True, cwd=venv, check=True).stdout
    assert where.startswith(str(venv))


def test_the_installed_command_runs_the_demo_and_serves_it(installed, tmp_path):
    _, venv = installed
    nianbao = venv / "bin" / "nianbao"
    demo = subprocess.run([nianbao, "demo", "--no-serve", "--portal-port", "0", "--db", "archive.db"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-3000:]
    assert "11 new" in demo.stdout
    port = free_port()
    with serving([nianbao, "serve", "--db", "archive.db", "--port", port], port, cwd=tmp_path) as base:
        for page in ("/", "/archive/figures", "/charts", "/about",
                     "/archive/reports?_search=%E5%A4%8D%E8%AE%AE"):
            with urllib.request.urlopen(base + page, timeout=30) as answer:
                assert answer.status == 200, page
        with urllib.request.urlopen(base + "/archive/reports.json?_shape=array&_size=1", timeout=30) as answer:
            url = json.loads(answer.read())[0]["url"]
        with urllib.request.urlopen(base + "/archive/reports/" + quote(tilde_encode(url)), timeout=30) as page:
            assert "收到和处理政府信息公开申请情况" in page.read().decode()  # the report page's tables
