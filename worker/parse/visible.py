"""The text a reader sees on a page that holds no one article."""

from __future__ import annotations

from bs4 import BeautifulSoup

from worker.parse.budget import within_budget

__all__ = ["visible_text"]


@within_budget
def visible_text(html: bytes) -> tuple[str, str]:
    """(title, text) of a listing or index page, within the extraction budget."""
    soup = BeautifulSoup(html, "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    return title, soup.get_text(" ", strip=True)
