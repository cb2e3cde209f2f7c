"""Charset detection: BOMs, header and document declarations, and their lies."""

from __future__ import annotations

import codecs

import pytest

from worker.parse.encoding import charset_from_content_type, decode

RUSSIAN = (
    "Министерство сельского хозяйства сообщило, что экспорт пшеницы вырос на десять процентов."
)
GERMAN = "Die Getreideexporte über die Häfen stiegen trotz höherer Frachtraten um zehn Prozent."


def test_bom_wins_over_every_declaration() -> None:
    data = codecs.BOM_UTF8 + '<?xml version="1.0" encoding="latin-1"?><a>é</a>'.encode()
    decoded = decode(data, "text/xml; charset=windows-1251")
    assert decoded.text == '<?xml version="1.0" encoding="latin-1"?><a>é</a>'


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_with_and_without_bom(encoding: str) -> None:
    text = f"<?xml version='1.0'?><p>{RUSSIAN}</p>"
    bom = codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE
    assert decode(bom + text.encode(encoding)).text == text
    assert decode(text.encode(encoding)).text == text


def test_valid_utf8_beats_a_latin1_declaration() -> None:
    html = f'<meta charset="iso-8859-1"><p>{GERMAN}</p>'
    decoded = decode(html.encode(), "text/html; charset=ISO-8859-1")
    assert GERMAN in decoded.text
    assert decoded.problem == "declared charset 'ISO-8859-1' is wrong; decoded as utf-8"


def test_true_latin1_declaration_is_believed() -> None:
    html = f'<meta charset="iso-8859-1"><p>{GERMAN}</p>'
    decoded = decode(html.encode("latin-1"))
    assert GERMAN in decoded.text
    assert decoded.problem is None


def test_header_declaration_is_used_when_the_document_has_none() -> None:
    decoded = decode(f"<p>{RUSSIAN}</p>".encode("koi8-r"), "text/html; charset=KOI8-R")
    assert RUSSIAN in decoded.text


def test_mojibake_from_a_lying_single_byte_declaration_is_rejected() -> None:
    decoded = decode(f"<p>{RUSSIAN}</p>".encode("cp1251"), "text/html; charset=iso-8859-1")
    assert RUSSIAN in decoded.text
    assert decoded.encoding == "cp1251"


def test_unknown_charset_label_falls_back_to_detection() -> None:
    decoded = decode(f"<p>{RUSSIAN}</p>".encode("cp1251"), "text/html; charset=x-no-such")
    assert RUSSIAN in decoded.text


@pytest.mark.parametrize(
    ("content_type", "charset"),
    [
        ("text/html; charset=UTF-8", "UTF-8"),
        ('text/html; charset="windows-1251"', "windows-1251"),
        ("application/xml;charset='gb2312'", "gb2312"),
        ("text/html", None),
        (None, None),
    ],
)
def test_charset_from_content_type(content_type: str | None, charset: str | None) -> None:
    assert charset_from_content_type(content_type) == charset
