"""Tables that lay a page out, read as the blocks they are.

Old sites place the whole page in a table: the article is one cell, beside
cells of navigation. trafilatura, asked to keep tables, then reads that cell
as a table row, with the sidebar's teasers in the same "row". A table whose
cells hold paragraphs is layout, not data: its rows and cells become plain
blocks before extraction, and the article stands in its own container again.
"""

from __future__ import annotations

from typing import Any

__all__ = ["unwrap_layout_tables"]

_TABLE_PARTS = ("tbody", "thead", "tfoot", "tr", "td", "th")
# A data table's cells hold short values: a cell with a paragraph of this many
# words or more is a page region.
_LAYOUT_WORDS = 40


def unwrap_layout_tables(tree: Any) -> None:
    """Turn every layout table of a parsed page into divs, in place."""
    # Collected before any is renamed: a data table nested in a layout cell keeps its rows.
    blocks = [
        element
        for table in tree.iter("table")
        if _is_layout(table)
        for element in (table, *table.iter(_TABLE_PARTS))
        if element is table or next(element.iterancestors("table"), None) is table
    ]
    for element in blocks:
        element.tag = "div"


def _is_layout(table: Any) -> bool:
    return any(len(p.text_content().split()) >= _LAYOUT_WORDS for p in table.iter("p"))
