"""schema.org JSON-LD on a page, as a flat list of typed nodes.

Publishers fill JSON-LD for search engines, so when a page has it, it is the
most deliberate statement of the article's headline, authors and dates. In the
wild it comes wrapped in CDATA or HTML comments, nested in @graph, split over
several scripts, with authors given by @id reference and raw newlines inside
strings; all of that is read here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["JsonLd", "Node", "read_json_ld"]

# Wrappers that keep old parsers from reading the script as markup or code.
_WRAPPER = re.compile(r"^\s*(?://\s*)?(?:<!\[CDATA\[|<!--)|(?://\s*)?(?:\]\]>|-->)\s*$")
_ARTICLE_TYPES = re.compile(r"(?:Article|BlogPosting|Posting|NewsArticle|Report|Review|Recipe)$")
_PAGE_TYPES = frozenset({"WebPage", "ItemPage", "AboutPage", "ProfilePage"})
_ORGANIZATION_TYPES = frozenset(
    {"Organization", "NewsMediaOrganization", "Corporation", "WebSite", "Brand", "Blog"}
)
# A page with hundreds of nodes is a catalogue; walking it all costs more than it tells.
_MAX_NODES = 500


@dataclass(frozen=True, slots=True)
class Node:
    """One JSON-LD object with an @type."""

    types: frozenset[str]  # local names: "NewsArticle", not "https://schema.org/NewsArticle"
    data: dict[str, Any]

    def text(self, key: str) -> str | None:
        """A plain string value of `key` (the first when it is a list)."""
        value = self.data.get(key)
        if isinstance(value, list):
            value = next((item for item in value if isinstance(item, str)), None)
        if isinstance(value, dict):
            value = value.get("@value")
        return value.strip() if isinstance(value, str) and value.strip() else None

    @property
    def is_article(self) -> bool:
        return any(_ARTICLE_TYPES.search(kind) for kind in self.types)

    @property
    def is_page(self) -> bool:
        return bool(self.types & _PAGE_TYPES)

    @property
    def is_organization(self) -> bool:
        return bool(self.types & _ORGANIZATION_TYPES)


@dataclass(frozen=True, slots=True)
class JsonLd:
    """Every typed node of a page's JSON-LD scripts, in document order."""

    nodes: tuple[Node, ...]

    def article(self) -> Node | None:
        """The node that describes the article; a WebPage stands in when there is none."""
        return next((n for n in self.nodes if n.is_article), None) or next(
            (n for n in self.nodes if n.is_page), None
        )

    def people(self, node: Node, key: str) -> list[tuple[str, bool]]:
        """Names under `key` (author, creator), each with whether it names an organization."""
        found: list[tuple[str, bool]] = []
        for value in _as_list(node.data.get(key)):
            if isinstance(value, str) and value.strip():
                found.append((value.strip(), False))
            elif isinstance(value, dict):
                target = self._resolve(value)
                name = _person_name(target)
                if name:
                    kinds = _types(target)
                    # ["Person", "Organization"]: a one-person site's owner is a person.
                    found.append(
                        (name, bool(kinds & _ORGANIZATION_TYPES) and "Person" not in kinds)
                    )
        return found

    def site_name(self) -> str | None:
        """The publisher's or web site's name."""
        article = self.article()
        if article is not None:
            for value in _as_list(article.data.get("publisher")):
                if isinstance(value, dict):
                    name = _person_name(self._resolve(value))
                    if name:
                        return name
        for node in self.nodes:
            if "WebSite" in node.types or "NewsMediaOrganization" in node.types:
                name = node.text("name")
                if name:
                    return name
        return None

    def _resolve(self, value: dict[str, Any]) -> dict[str, Any]:
        # {"@id": "#/schema/person/1"} points at a node elsewhere in the @graph.
        ref = value.get("@id")
        if isinstance(ref, str) and len(value) == 1:
            for node in self.nodes:
                if node.data.get("@id") == ref:
                    return node.data
        return value


def read_json_ld(scripts: list[str]) -> JsonLd:
    """The typed nodes of these script bodies; a script that is not JSON is skipped."""
    nodes: list[Node] = []
    for script in scripts:
        body = _WRAPPER.sub("", script.strip())
        try:
            # strict=False: raw newlines and tabs inside strings are common in the wild.
            data = json.loads(body, strict=False)
        except ValueError:
            continue
        for item in _walk(data):
            nodes.append(Node(_types(item), item))
            if len(nodes) >= _MAX_NODES:
                return JsonLd(tuple(nodes))
    return JsonLd(tuple(nodes))


def _walk(data: Any) -> Iterator[dict[str, Any]]:
    """Every dict with an @type, the outer ones first; an article's own author comes after it."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(reversed(value))
        elif isinstance(value, dict):
            if "@type" in value:
                yield value
            stack.extend(reversed([v for v in value.values() if isinstance(v, dict | list)]))


def _types(data: dict[str, Any]) -> frozenset[str]:
    return frozenset(
        kind.rstrip("/").rsplit("/", 1)[-1]
        for kind in _as_list(data.get("@type"))
        if isinstance(kind, str)
    )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def _person_name(data: dict[str, Any]) -> str | None:
    name = data.get("name")
    if isinstance(name, list):
        name = next((n for n in name if isinstance(n, str)), None)
    if isinstance(name, str) and name.strip():
        return name.strip()
    parts = [data.get(k) for k in ("givenName", "familyName")]
    joined = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    return joined or None
