"""The fast lxml reader (worker.parse.xmlfeed) reads every feed as feedparser does.

parse_feed takes the fast reader's result when it gives one and feedparser's
otherwise; each case here is parsed both ways (feedparser forced by making
the fast reader decline) and the ParsedFeeds must be equal. The cases are the
feed fixtures and variants of each element the fast reader models, written
the ways publishers write them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.errors import ExtractError
from worker.models import ParsedFeed
from worker.parse import feeds, parse_feed
from worker.parse.xmlfeed import read_feed

FIXTURES = Path(__file__).parent / "fixtures" / "parse"
URL = "https://news.example.com/section/rss"
NAMESPACES = (
    'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/"'
)


def both_ways(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[ParsedFeed, ParsedFeed]:
    fast = parse_feed(data, url=URL)
    with monkeypatch.context() as patch:
        patch.setattr(feeds, "read_feed", lambda utf8, url: None)
        slow = parse_feed(data, url=URL)
    return fast, slow


def rss(*items: str, channel: str = "<title>Wire &amp; Co</title>") -> bytes:
    body = "".join(f"<item>{item}</item>" for item in items)
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" {NAMESPACES}>'
        f"<channel>{channel}<link>https://news.example.com/</link>{body}</channel></rss>"
    ).encode()


def atom(*entries: str, title: str = "<title>Atom feed</title>") -> bytes:
    body = "".join(f"<entry>{entry}</entry>" for entry in entries)
    return (
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"{title}<id>urn:feed</id>{body}</feed>"
    ).encode()


def rdf(*items: str) -> bytes:
    body = "".join(
        f'<item rdf:about="https://rdf.example.org/{n}">{i}</item>' for n, i in enumerate(items)
    )
    return (
        '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        '<channel rdf:about="https://rdf.example.org/"><title>RDF</title></channel>'
        f"{body}</rdf:RDF>"
    ).encode()


FULL_ITEM = (
    "<title>Grain exports rise</title><link>https://news.example.com/a?x=1&amp;y=2</link>"
    '<guid isPermaLink="false">g-1</guid><pubDate>Wed, 01 May 2024 09:30:00 +0300</pubDate>'
    "<dc:creator>Anna Petrova</dc:creator><category>Economy</category>"
    "<description><![CDATA[<p>Exports <b>rose</b>.</p>]]></description>"
    "<content:encoded><![CDATA[<p>Full</p><script>x()</script><p>text.</p>]]></content:encoded>"
)

# Each case: (name, document, whether the fast reader should take it).
CASES: list[tuple[str, bytes, bool]] = [
    ("rss full item", rss(FULL_ITEM), True),
    ("guid permalink by default", rss("<title>T</title><guid>relative/1</guid>"), True),
    (
        "guid permalink true",
        rss('<title>T</title><guid isPermaLink="true">https://x.org/1</guid>'),
        True,
    ),
    ("guid permalink odd case", rss('<title>T</title><guid ISPERMALINK="false">g</guid>'), True),
    (
        "guid then link",
        rss("<guid>https://x.org/g</guid><link>/rel/link</link><title>T</title>"),
        True,
    ),
    ("link then guid", rss("<link>https://x.org/l</link><guid>https://x.org/g</guid>"), True),
    ("empty link", rss("<title>T</title><link></link><guid>https://x.org/g</guid>"), True),
    ("no link no guid", rss("<title>Only a title</title><description>d</description>"), True),
    ("javascript link", rss("<title>T</title><link>javascript:alert(1)</link>"), True),
    ("author email and name", rss("<title>T</title><author>jane@x.org (Jane Doe)</author>"), True),
    ("author email only", rss("<title>T</title><author>jane@x.org</author>"), True),
    ("author name only", rss("<title>T</title><author>Jane Doe</author>"), True),
    ("author angle email", rss("<title>T</title><author>Jane &lt;jane@x.org&gt;</author>"), True),
    ("html in title", rss("<title>Talks &lt;em&gt;resume&lt;/em&gt; &amp;amp; end</title>"), True),
    ("entity text in title", rss("<title>AT&amp;amp;T &amp;lt;3</title>"), True),
    (
        "content only",
        rss("<title>T</title><content:encoded>&lt;p&gt;Body&lt;/p&gt;</content:encoded>"),
        True,
    ),
    (
        "description after content",
        rss(
            "<content:encoded>&lt;p&gt;Body&lt;/p&gt;</content:encoded><description>Sum</description>"
        ),
        True,
    ),
    (
        "same content and summary",
        rss("<description>Same</description><content:encoded>Same</content:encoded>"),
        True,
    ),
    (
        "plain description",
        rss("<title>T</title><description>Plain text, 5 &lt; 6</description>"),
        True,
    ),
    ("dc date", rss("<title>T</title><dc:date>2024-05-01T09:30:00+02:00</dc:date>"), True),
    (
        "both dates",
        rss("<pubDate>Wed, 01 May 2024 09:30:00 GMT</pubDate><dc:date>2024-06-01</dc:date>"),
        True,
    ),
    ("odd date", rss("<title>T</title><pubDate>yesterday at noon</pubDate>"), True),
    ("future date", rss("<title>T</title><pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate>"), True),
    ("date no zone", rss("<title>T</title><pubDate>2024-05-01 09:30</pubDate>"), True),
    (
        "whitespace",
        rss("<title>\n  Spaced   title \n</title><description>\n\n a \n\n b </description>"),
        True,
    ),
    (
        "empty title",
        rss("<title></title><description>An untitled story about ports.</description>"),
        True,
    ),
    ("mojibake", rss("<title>CafÃ© owners</title>"), True),
    ("c1 controls", rss("<title>&#147;Quoted&#148; &#128;5</title>"), True),
    (
        "media and enclosure",
        rss(
            '<title>T</title><media:content url="https://x.org/a.jpg" medium="image"/>'
            '<media:thumbnail url="/t.jpg"/>'
            '<enclosure url="https://x.org/a.mp3" type="audio/mpeg"/>'
            "<comments>https://x.org/c</comments><dc:subject>Trade</dc:subject>"
        ),
        True,
    ),
    ("comment in item", rss("<!-- ad slot --><title>T</title><link>https://x.org/1</link>"), True),
    ("many items", rss(*[FULL_ITEM.replace("g-1", f"g-{n}") for n in range(30)]), True),
    ("untitled channel", rss("<title>T</title>", channel=""), True),
    (
        "html channel title",
        rss("<title>T</title>", channel="<title>A &lt;b&gt;bold&lt;/b&gt; wire</title>"),
        True,
    ),
    (
        "atom full entry",
        atom(
            '<title type="html">Sanctions &lt;em&gt;relief&lt;/em&gt;</title>'
            '<link rel="alternate" type="text/html" href="/posts/1"/><id>tag:x.org,2024:1</id>'
            "<published>2024-02-10T11:00:00-05:00</published><updated>2024-02-10T12:00:00Z</updated>"
            "<author><name>Jane Doe</name><email>jane@x.org</email></author>"
            "<summary>Short</summary>"
            '<content type="html">&lt;p&gt;Long &lt;b&gt;text&lt;/b&gt;&lt;/p&gt;</content>'
        ),
        True,
    ),
    ("atom id only", atom("<title>T</title><id>https://x.org/only-id</id>"), True),
    ("atom relative id", atom("<title>T</title><id>42</id>"), True),
    (
        "atom link no rel",
        atom('<title>T</title><link href="https://x.org/a"/><id>urn:1</id>'),
        True,
    ),
    (
        "atom several links",
        atom(
            '<link rel="self" href="https://x.org/self"/><link rel="alternate" href="https://x.org/a"/>'
            '<link rel="alternate" type="application/pdf" href="https://x.org/a.pdf"/>'
            '<link rel="enclosure" href="https://x.org/a.mp3"/><id>urn:2</id><title>T</title>'
        ),
        True,
    ),
    (
        "atom content before summary",
        atom(
            '<content type="html">&lt;p&gt;Body&lt;/p&gt;</content>'
            "<summary>Sum</summary><title>T</title>"
        ),
        True,
    ),
    ("atom text content", atom("<title>T</title><content>Plain &amp; simple</content>"), True),
    (
        "atom xhtml content",
        atom(
            '<title>T</title><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
            "<p>One <b>bold</b></p><p>Two</p></div></content>"
        ),
        True,
    ),
    (
        "atom author email only",
        atom("<title>T</title><author><email>j@x.org</email></author>"),
        True,
    ),
    (
        "atom author uri only",
        atom("<title>T</title><author><uri>https://x.org/j</uri></author>"),
        True,
    ),
    ("atom no title", atom("<summary>Only a summary of the strike at the port.</summary>"), True),
    (
        "rdf items",
        rdf("<title>A</title><link>https://rdf.example.org/a</link><dc:date>2024-01-02</dc:date>"),
        True,
    ),
    (
        "rdf content",
        rdf(
            "<title>B</title><description>D</description><content:encoded>&lt;p&gt;C&lt;/p&gt;</content:encoded>"
        ),
        True,
    ),
    # Declined: feedparser reads these.
    (
        "xml base",
        atom('<title>T</title><link href="a"/>').replace(
            b"<feed ", b'<feed xml:base="https://b.org/x/" '
        ),
        False,
    ),
    ("source element", rss("<title>T</title><source url='https://s.org/rss'>Src</source>"), False),
    ("dc title", rss("<title>T</title><dc:title>Other</dc:title>"), False),
    ("two titles", rss("<title>T</title><title>U</title>"), False),
    ("markup in description", rss("<title>T</title><description><p>raw</p></description>"), False),
    (
        "typed description",
        rss('<title>T</title><description type="text/plain">a</description>'),
        False,
    ),
    ("undeclared entity", rss("<title>T&nbsp;U</title>"), False),
    ("not well-formed", rss("<title>Fish & chips</title>"), False),
    (
        "media with children",
        rss("<media:content url='x'><media:title>M</media:title></media:content>"),
        False,
    ),
    (
        "atom two authors",
        atom("<author><name>A</name></author><author><name>B</name></author>"),
        False,
    ),
    ("atom content src", atom('<title>T</title><content src="https://x.org/c"/>'), False),
    (
        "atom base64",
        atom('<title>T</title><content type="application/octet-stream">QUJD</content>'),
        False,
    ),
    (
        "atom 0.3",
        b'<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>x</title></feed>',
        False,
    ),
]


@pytest.mark.parametrize(("name", "data", "fast"), CASES, ids=[c[0] for c in CASES])
def test_fast_reader_agrees_with_feedparser(
    name: str, data: bytes, fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (read_feed(data, url=URL) is not None) == fast, name
    quick, reference = both_ways(data, monkeypatch)
    assert quick == reference


def _fixture_feeds() -> list[Path]:
    return sorted([*FIXTURES.glob("*.xml"), *FIXTURES.glob("*.rdf")])


@pytest.mark.parametrize("path", _fixture_feeds(), ids=lambda p: p.name)
def test_fixtures_read_the_same_both_ways(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = path.read_bytes()
    try:
        quick, reference = both_ways(data, monkeypatch)
    except ExtractError:
        return  # refused before either reader sees it (test_parse_feeds checks which)
    assert quick == reference


def test_common_fixtures_take_the_fast_path() -> None:
    taken = {
        path.name
        for path in _fixture_feeds()
        if b"SECRET" not in path.read_bytes() and _fast(path.read_bytes())
    }
    assert {"rss2.xml", "rss1.rdf", "entity_declared_safe.xml"} <= taken
    assert "malformed.xml" not in taken  # feedparser's lenient reading and its report
    assert "atom_xhtml.xml" not in taken  # xml:base


def _fast(data: bytes) -> bool:
    text = data.decode("utf-8", "replace")
    if "<!ENTITY" in text and "lol" in text:
        return False
    return read_feed(data, url=URL) is not None
