"""Render an email alert and a digest with wirewatch's own renderer, and screenshot them.

    python docs/screenshots.py            # writes docs/img/email-alert.png, docs/img/digest.png
    python docs/screenshots.py --html D   # only the HTML, into folder D

The articles are made up (example.org links, invented outlets). Matching and
rendering are the real code paths: the spans come from the rule matcher and
the HTML from worker.notify.render, as the worker sends them. Screenshots
are taken with headless Chromium (Debian: `apt-get install chromium`).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from worker.match import Document, compile_rules  # noqa: E402
from worker.models import Article  # noqa: E402
from worker.notify.render import (  # noqa: E402
    AlertContent,
    DigestItem,
    Message,
    render_alert,
    render_digest,
)

IMAGES = ROOT / "docs" / "img"
ZONE = ZoneInfo("Europe/Berlin")
RULES = {
    "s300-iran": '("S-300" OR "S-400") AND (Iran OR Tehran)',
    "sanctions": 'sanction* NEAR/8 (Iran OR Russia) NOT "sanctions relief"',
}

# (rule, source name, published UTC, title, body, also reported by, link)
STORIES = [
    (
        "s300-iran",
        "Northern Wire",
        datetime(2025, 3, 14, 7, 42, tzinfo=UTC),
        "Moscow confirms delivery of S-300 batteries to Iran",
        "MOSCOW, March 14 - Russia has completed the delivery of two S-300PMU-2 air "
        "defence batteries to Iran, the deputy defence minister said on Friday, ending "
        "months of speculation about the contract.\n\n"
        "The systems were shipped by sea and are being deployed around Tehran, according "
        "to a statement that did not give a date for when they would be operational. "
        "Analysts say the batteries, an export version of the S300 family, would "
        "complicate any air strike on nuclear sites.\n\n"
        # \u0421 is the Cyrillic letter, as Russian media write it; the rule's "S-400" finds it.
        "Earlier reports in Russian media spoke of the more capable \u0421-400 (S-400) system; "
        "the ministry denied that any such deal was under discussion.",
        ("Gulf Herald", "Baltic Ledger"),
        "https://northernwire.example.org/world/2025/03/14/russia-delivers-s-300-batteries-to-iran",
    ),
    (
        "s300-iran",
        "Gulf Herald",
        datetime(2025, 3, 14, 11, 5, tzinfo=UTC),
        "Tehran parades new air defences after Russian shipment",
        "State television showed what it said were newly arrived S-300 launchers on "
        "the outskirts of Tehran. Officials called the deployment defensive.",
        (),
        "https://gulfherald.example.org/middle-east/tehran-parades-air-defences-20250314",
    ),
    (
        "sanctions",
        "Baltic Ledger",
        datetime(2025, 3, 14, 9, 30, tzinfo=UTC),
        "EU agrees sixteenth package of sanctions against Russia",
        "BRUSSELS - European Union ambassadors agreed on Wednesday a new package of "
        "sanctions against Russia targeting shipping, banks and exporters of "
        "dual-use goods. The measures still need formal approval by ministers.",
        (),
        "https://balticledger.example.org/eu/2025-03-14/eu-agrees-16th-sanctions-package",
    ),
    (
        "sanctions",
        "Northern Wire",
        datetime(2025, 3, 14, 14, 12, tzinfo=UTC),
        "US Treasury sanctions network supplying drone parts to Iran",
        "The Treasury Department said on Thursday it had sanctioned six companies that "
        "supplied Iran with engines and guidance parts for its Shahed drones.",
        (),
        "https://northernwire.example.org/business/2025/03/14/treasury-sanctions-iran-drone-suppliers",
    ),
]


def _alerts() -> list[tuple[AlertContent, datetime]]:
    rules = compile_rules(list(RULES.items()))
    alerts = []
    for number, (rule_id, source, published, title, body, also, url) in enumerate(STORIES):
        article = Article(
            id=f"a{number}",
            source_id=source.lower().replace(" ", "-"),
            url=url,
            title=title,
            summary="",
            body=body,
            published=published,
            language="en",
        )
        (match,) = [m for m in rules.match(Document.from_article(article)) if m.rule_id == rule_id]
        content = AlertContent(rule_id, article, match.spans, source, also)
        alerts.append((content, published))
    return alerts


def render() -> dict[str, Message]:
    alerts = _alerts()
    digest_items = [DigestItem(content, at) for content, at in alerts]
    return {
        "email-alert": render_alert(alerts[0][0], "html", ZONE),
        "digest": render_digest(digest_items, "html", ZONE, window_label="2025-03-14 18:00 CET"),
    }


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("no Chromium found: apt-get install chromium")


def screenshot(html: Path, png: Path, width: int, height: int) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                _chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--screenshot={png}",
                f"--window-size={width},{height}",
                html.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


# Window sizes that fit each message whole, without a long empty tail.
SIZES = {"email-alert": (720, 440), "digest": (720, 1060)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, help="write only the HTML, into this folder")
    args = parser.parse_args()
    messages = render()
    if args.html:
        args.html.mkdir(parents=True, exist_ok=True)
        for name, message in messages.items():
            (args.html / f"{name}.html").write_text(message.body)
        return
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        for name, message in messages.items():
            html = Path(work) / f"{name}.html"
            html.write_text(message.body)
            screenshot(html, IMAGES / f"{name}.png", *SIZES[name])
            print(f"{IMAGES / name}.png  ({message.title})")


if __name__ == "__main__":
    main()
