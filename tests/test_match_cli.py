"""`wirewatch match` (docs/commands.md): single queries, files, pages, and batch mode."""

from __future__ import annotations

import gzip
import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.wirewatch_process import run_cli
from worker.cli import main

ARTICLE_HTML = """<!doctype html>
<html><head><title>Missiles for Tehran | Example News</title></head>
<body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article>
<h1>Missiles for Tehran</h1>
<p>Russia has agreed to deliver the S&#8209;300 air defence system to Iran, officials
said on Tuesday, in a deal worth several hundred million dollars.</p>
<p>The delivery follows months of talks. Analysts said the sanctions imposed last year
had not slowed the negotiations, which were held in Moscow and in Tehran.</p>
<p>Neither government commented on the timing of the first shipments.</p>
</article>
<footer>Copyright Example News</footer>
</body></html>
"""


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["match", *args], input=stdin)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_stdin_match_highlights_spans() -> None:
    code, out, _ = run("S-300 AND iran", "-", stdin="Russia sold the \u0421-300 to Iran.")
    assert code == 0
    assert "match: \u0421-300, Iran" in out
    assert "body: Russia sold the [[\u0421-300]] to [[Iran]]." in out


def test_no_match_exits_1() -> None:
    code, out, _ = run("iraq", "-", stdin="Russia sold the S-300 to Iran.")
    assert code == 1
    assert out.strip() == "no match"


def test_bad_query_exits_2_with_caret() -> None:
    code, out, err = run("iran AND AND oil", "-", stdin="Iran")
    assert code == 2
    assert out == ""
    assert "AND cannot follow AND (column 10)" in err
    assert "iran AND AND oil\n         ^" in err


def test_json_output() -> None:
    code, out, _ = run("sanction* NOT iraq", "--title", "New sanctions", "--lang", "en", "--json")
    assert code == 0
    assert json.loads(out) == {
        "query": "sanction* NOT iraq",
        "match": True,
        "title": "New sanctions",
        "language": "en",
        "terms": ["sanctions"],
        "spans": [{"field": "title", "start": 4, "end": 13, "text": "sanctions"}],
        "inflections": [],
    }


def test_json_no_match() -> None:
    code, out, _ = run("iraq", "--title", "Iran", "--json")
    assert code == 1
    assert json.loads(out)["match"] is False


def test_match_by_absence_says_so() -> None:
    code, out, _ = run("NOT iraq", "--title", "Iran")
    assert code == 0
    assert "nothing to highlight" in out


def test_title_option_is_matched_as_the_title() -> None:
    code, _, _ = run("title:iran", "-", "--title", "Iran talks", stdin="nothing here")
    assert code == 0
    code, _, _ = run("title:iran", "-", stdin="Iran talks")
    assert code == 1


def test_html_file_is_extracted(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(ARTICLE_HTML, encoding="utf-8")
    code, out, _ = run('"S-300" NEAR/4 iran', str(page))
    assert code == 0
    assert "[[S\u2011300]]" in out
    # Navigation and footer are not article text.
    code, _, _ = run("copyright", str(page))
    assert code == 1
    code, _, _ = run("title:tehran", str(page))
    assert code == 0


def test_gzipped_html_file(tmp_path: Path) -> None:
    page = tmp_path / "page.html.gz"
    page.write_bytes(gzip.compress(ARTICLE_HTML.encode()))
    code, _, _ = run("sanction* NEAR/8 negotiations", str(page))
    assert code == 0


def test_missing_file_exits_2(tmp_path: Path) -> None:
    code, _, err = run("iran", str(tmp_path / "absent.txt"))
    assert code == 2
    assert "cannot read" in err


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/world/missiles":
            self.send_error(404)
            return
        body = ARTICLE_HTML.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def page_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/world/missiles"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def test_url_is_fetched_and_extracted(page_url: str, loopback_config: Path) -> None:
    code, out, _ = run("moscow AND tehran", page_url, "--config", str(loopback_config))
    assert code == 0
    assert "[[Moscow]]" in out


def test_url_uses_the_safe_fetcher(page_url: str, tmp_path: Path) -> None:
    """Without allow_private_networks (the default), a loopback page is refused."""
    code, _, err = run("moscow", page_url, "--config", str(tmp_path / "no-config"))
    assert code == 2
    assert "cannot fetch" in err and "allow_private_networks" in err


def test_url_fetch_error(page_url: str, loopback_config: Path) -> None:
    missing = page_url.replace("/world/missiles", "/missing")
    code, _, err = run("moscow", missing, "--config", str(loopback_config))
    assert code == 2
    assert "cannot fetch" in err and "404" in err


def _write_batch(tmp_path: Path, rules: str) -> tuple[Path, Path]:
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(rules, encoding="utf-8")
    articles = tmp_path / "articles.jsonl"
    lines = [
        {"id": "a1", "title": "S-300 for Iran", "text": "Russia delivers."},
        {"id": "a2", "title": "Weather", "text": "New sanctions relief talks on Iran."},
        {"id": "a3", "title": "\u0428\u043e\u0439\u0433\u0443 in Tehran", "text": ""},
    ]
    articles.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return rules_file, articles


def test_batch_mode(tmp_path: Path) -> None:
    rules_file, articles = _write_batch(
        tmp_path,
        """rules:
  - id: s300-iran
    query: '("S-300" OR "S-400") AND (Iran OR Tehran)'
    notify: [analysts]
  - id: sanctions
    query: 'sanction* NEAR/8 (Iran OR Russia) NOT "sanctions relief"'
  - id: shoigu
    query: 'title:Shoigu'
  - id: iran
    query: 'iran OR tehran'
""",
    )
    code, out, _ = run("--rules", str(rules_file), "--articles", str(articles))
    assert code == 0
    assert [json.loads(line) for line in out.splitlines()] == [
        {"id": "a1", "rules": ["s300-iran", "iran"]},
        {"id": "a2", "rules": ["iran"]},
        {"id": "a3", "rules": ["shoigu", "iran"]},
    ]


def test_batch_bad_rule_exits_2(tmp_path: Path) -> None:
    rules_file, articles = _write_batch(
        tmp_path, "rules:\n  - id: ok\n    query: iran\n  - id: bad\n    query: 'iran NEAR oil'\n"
    )
    code, out, err = run("--rules", str(rules_file), "--articles", str(articles))
    assert code == 2
    assert out == ""
    assert "rule bad: NEAR needs a distance" in err
    assert "iran NEAR oil\n     ^" in err


def test_batch_malformed_rules_file_exits_2(tmp_path: Path) -> None:
    rules_file, articles = _write_batch(tmp_path, "rules:\n  - id: no-query\n")
    code, _, err = run("--rules", str(rules_file), "--articles", str(articles))
    assert code == 2
    assert "needs an id and a query" in err


def test_batch_needs_both_files(tmp_path: Path) -> None:
    rules_file, _ = _write_batch(tmp_path, "rules: []\n")
    code, _, err = run("--rules", str(rules_file))
    assert code == 2
    assert "batch mode takes --rules and --articles" in err


def test_installed_command_runs() -> None:
    # The real entry point, outside CliRunner: exit codes reach the shell.
    result = run_cli("match", "iran", "-", env=os.environ, stdin="Talks with Iran", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "[[Iran]]" in result.stdout


def test_lang_sets_how_word_tilde_stems() -> None:
    text = "Die Bank wurde mit Sanktionen belegt."
    code, out, _ = run("Sanktion~", "-", "--lang", "de", stdin=text)
    assert code == 0
    assert "body: Die Bank wurde mit [[Sanktionen]] belegt." in out
    assert "language: de (German)" in out
    assert "inflected: Sanktionen (sanktion~: German sanktion + ending -en)" in out
    # Stemmed as English, Sanktionen is another word.
    code, _, _ = run("Sanktion~", "-", "--lang", "en", stdin=text)
    assert code == 1
    code, _, err = run("Sanktion~", "-", "--lang", "german", stdin=text)
    assert code == 2
    assert "not an ISO 639-1 code" in err


def test_language_declared_by_a_page_or_detected(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(ARTICLE_HTML.replace("<html>", '<html lang="de">'), encoding="utf-8")
    code, out, _ = run("sanction~", str(page), "--json")
    assert json.loads(out)["language"] == "de"
    russian = (
        "\u0421\u0430\u043d\u043a\u0446\u0438\u0438 \u043f\u0440\u043e\u0442\u0438\u0432 "
        "\u0431\u0430\u043d\u043a\u043e\u0432 \u0432\u0432\u0435\u043b\u0438 "
        "\u0432\u0447\u0435\u0440\u0430"
    )
    code, out, _ = run("\u0441\u0430\u043d\u043a\u0446\u0438\u044f~", "-", "--json", stdin=russian)
    result = json.loads(out)
    assert code == 0
    assert result["language"] == "ru"
    assert result["terms"] == ["\u0421\u0430\u043d\u043a\u0446\u0438\u0438"]


def test_batch_articles_carry_their_language(tmp_path: Path) -> None:
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text("rules:\n  - id: bank\n    query: 'Bank~ AND Sanktion~'\n")
    articles = tmp_path / "articles.jsonl"
    lines = [
        {"id": 1, "title": "Banken", "text": "Sanktionen", "language": "de"},
        {"id": 2, "title": "Banken", "text": "Sanktionen", "language": "en"},
        {"id": 3, "title": "Banken", "text": "Sanktionen"},  # detected: German
    ]
    articles.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    code, out, _ = run("--rules", str(rules_file), "--articles", str(articles))
    assert code == 0
    assert [json.loads(line)["rules"] for line in out.splitlines()] == [["bank"], [], ["bank"]]
