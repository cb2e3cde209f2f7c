"""`wirewatch extract FILE|URL [--json]`: what the parser makes of a page."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.web import Site
from worker.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "parse"
GRAIN = FIXTURES / "article_grain.html"
GRAIN_URL = "https://www.themoscowtimes.com/2024/05/01/russias-grain-exports-hit-record-a12345"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["extract", *args], catch_exceptions=False)


@pytest.fixture
def site() -> Iterator[Site]:
    with Site() as served:
        yield served


@pytest.mark.slow
def test_file_as_json() -> None:
    result = run(str(GRAIN), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"title", "url", "published", "author", "language", "text"} <= set(data)
    assert {"site_name", "description"} <= set(data)
    assert data["title"] == "Russia's Grain Exports Hit Record as Ports Expand"
    # rel=canonical is relative (useless for a file); og:url names the page.
    assert data["url"] == GRAIN_URL
    assert data["published"] == "2024-05-01T11:05:00+00:00"
    assert data["author"] == "Irina Volkova"
    assert data["language"] == "en"
    assert "60 million tons of wheat" in data["text"]
    assert "Related articles" not in data["text"]


def test_file_as_text() -> None:
    result = run(str(GRAIN))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "title:     Russia's Grain Exports Hit Record as Ports Expand"
    assert f"url:       {GRAIN_URL}" in lines
    assert "published: 2024-05-01T11:05:00+00:00" in lines
    assert "author:    Irina Volkova" in lines
    assert "language:  en" in lines
    assert any("60 million tons of wheat" in line for line in lines)


def test_gzipped_file(tmp_path: Path) -> None:
    packed = tmp_path / "page.html.gz"
    packed.write_bytes(gzip.compress(GRAIN.read_bytes()))
    result = run(str(packed), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["author"] == "Irina Volkova"


@pytest.mark.parametrize("name", ["consent_wall.html", "paywall_stub.html", "empty_page.html"])
def test_not_an_article(name: str) -> None:
    result = run(str(FIXTURES / name))
    assert result.exit_code == 1
    assert "not an article" in result.stderr
    assert result.stdout == ""


def test_missing_file() -> None:
    result = run("no-such-page.html")
    assert result.exit_code == 1
    assert "cannot read no-such-page.html" in result.stderr


def test_url(site: Site, loopback_config: Path) -> None:
    site.put("/news/grain?utm_source=x", GRAIN.read_bytes(), "text/html; charset=utf-8")
    result = run(site.url("/news/grain?utm_source=x"), "--json", "--config", str(loopback_config))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # The relative rel=canonical, resolved against the fetched page, tracking removed.
    assert data["url"] == site.url("/2024/05/01/russias-grain-exports-hit-record-a12345")
    assert "60 million tons of wheat" in data["text"]
    assert site.hits["/news/grain?utm_source=x"] == 1


def test_url_not_an_article(site: Site, loopback_config: Path) -> None:
    site.put("/consent", (FIXTURES / "consent_wall.html").read_bytes())
    result = run(site.url("/consent"), "--config", str(loopback_config))
    assert result.exit_code == 1
    assert "not an article" in result.stderr


def test_url_fetch_error(site: Site, loopback_config: Path) -> None:
    result = run(site.url("/missing"), "--config", str(loopback_config))
    assert result.exit_code == 1
    assert "cannot fetch" in result.stderr and "404" in result.stderr


def test_url_uses_the_safe_fetcher(site: Site, tmp_path: Path) -> None:
    """Without allow_private_networks (the default), a loopback page is refused."""
    site.put("/news/grain", GRAIN.read_bytes())
    result = run(site.url("/news/grain"), "--config", str(tmp_path / "no-config"))
    assert result.exit_code == 1
    assert "allow_private_networks" in result.stderr
    assert site.hits["/news/grain"] == 0


def test_broken_settings_fall_back_to_defaults(site: Site, tmp_path: Path) -> None:
    directory = tmp_path / "config"
    directory.mkdir()
    (directory / "settings.yaml").write_text("fetch: {timeout: forever}\n")
    result = run(str(GRAIN), "--config", str(directory))
    assert result.exit_code == 0  # a file needs no settings at all
    result = run(site.url("/x"), "--config", str(directory))
    assert result.exit_code == 1
    assert "default fetch limits" in result.stderr


def test_json_gives_site_name_and_description() -> None:
    page = FIXTURES / "meta_cdata_jsonld.html"
    result = run(str(page), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["site_name"] == "Island Post"
    assert data["author"] == "Mara Quill"
    described = FIXTURES / "title_logo_section_h1.html"
    data = json.loads(run(str(described), "--json").stdout)
    assert data["description"] == (
        "Doctors advise patients to start their medication sooner this year."
    )
    assert data["title"] == "Pollen season starts three weeks early"


def test_front_page_of_teasers_is_not_an_article() -> None:
    result = run(str(FIXTURES / "front_page_teasers.html"))
    assert result.exit_code == 1
    assert "not an article" in result.output
