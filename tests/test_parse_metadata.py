"""Where an article's dates come from: meta tags, JSON-LD, then htmldate, never the network."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime

import pytest

from worker.parse import extract_article

_BODY = " ".join(
    f"Paragraph {n} of the report says the ministry confirmed the shipment of grain to the"
    " port, where officials counted the cargo and signed the papers before departure."
    for n in range(4)
)


def page(head: str = "", body_extra: str = "") -> bytes:
    return f"""<!DOCTYPE html>
<html lang="en"><head><title>Ministry confirms grain shipment</title>{head}</head>
<body><article><h1>Ministry confirms grain shipment</h1>{body_extra}<p>{_BODY}</p>
<p>{_BODY}</p></article></body></html>""".encode()


def json_ld(**fields: str) -> str:
    data = {"@context": "https://schema.org", "@type": "NewsArticle", **fields}
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def extract(html: bytes, url: str = "https://news.example/story") -> tuple[object, object]:
    result = extract_article(html, url=url)
    assert result is not None
    return result.published, result.updated


def test_meta_published_and_modified() -> None:
    head = (
        '<meta property="article:published_time" content="2025-03-01T10:00:00+02:00">'
        '<meta property="article:modified_time" content="2025-03-02T09:30:00Z">'
    )
    assert extract(page(head)) == (utc("2025-03-01T08:00:00+00:00"), utc("2025-03-02T09:30:00Z"))


def test_json_ld_dates() -> None:
    head = json_ld(datePublished="2025-03-01T10:00:00+01:00", dateModified="2025-03-03T00:00:00Z")
    assert extract(page(head)) == (utc("2025-03-01T09:00:00Z"), utc("2025-03-03T00:00:00Z"))


def test_json_ld_in_a_graph_with_raw_newlines() -> None:
    # Real pages nest the article in @graph and leave control characters in strings.
    head = (
        '<script type="application/ld+json">{"@graph": [{"@type": "WebPage"},'
        ' {"@type": "NewsArticle", "headline": "two\nlines",'
        ' "datePublished": "2025-03-01T10:00:00Z"}]}</script>'
    )
    assert extract(page(head))[0] == utc("2025-03-01T10:00:00Z")


def test_modified_time_stands_in_for_a_missing_published_time() -> None:
    assert extract(page(json_ld(dateModified="2025-03-03T12:00:00Z"))) == (
        utc("2025-03-03T12:00:00Z"),
        utc("2025-03-03T12:00:00Z"),
    )


def test_article_dates_win_over_generic_tags() -> None:
    head = (
        '<meta name="DC.Date" content="2020-01-01">'
        + '<meta property="article:published_time" content="2025-03-01T10:00:00Z">'
    )
    assert extract(page(head))[0] == utc("2025-03-01T10:00:00Z")


def test_earliest_publication_time_wins_over_a_modified_one_under_a_published_key() -> None:
    # Templates write the modification time into article:published_time.
    head = (
        json_ld(datePublished="2025-02-27T08:00:00Z")
        + '<meta property="article:published_time" content="2025-03-01T10:00:00Z">'
        + '<meta property="article:modified_time" content="2025-03-01T10:00:00Z">'
    )
    assert extract(page(head)) == (utc("2025-02-27T08:00:00Z"), utc("2025-03-01T10:00:00Z"))


@pytest.mark.parametrize(
    "name", ["DC.Date", "dc.date", "dcterms.issued", "citation_publication_date"]
)
def test_generic_date_tags_any_case(name: str) -> None:
    head = f'<meta name="{name}" content="2025-03-01">'
    assert extract(page(head))[0] == utc("2025-03-01T00:00:00+00:00")


def test_htmldate_fallback_reads_the_url() -> None:
    published, updated = extract(page(), url="https://news.example/2025/03/01/grain-shipment")
    assert published == utc("2025-03-01T00:00:00+00:00")
    assert updated is None


def test_htmldate_fallback_reads_markup() -> None:
    body = '<p class="byline">Posted <time datetime="2025-02-11T08:15:00">11 Feb</time></p>'
    html = page(body_extra=body).replace(b"<article>", b"<div>").replace(b"</article>", b"</div>")
    assert extract(html)[0] == datetime(2025, 2, 11, 8, 15, tzinfo=UTC)


def test_no_date_anywhere() -> None:
    assert extract(page()) == (None, None)


def test_no_network_access(monkeypatch: pytest.MonkeyPatch) -> None:
    """htmldate downloads a string that looks like a URL; extraction must never connect."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("extraction tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    html = page('<link rel="canonical" href="https://news.example/story">')
    assert extract(html, url="https://news.example/story") == (None, None)


# --- the sources, one failure kind at a time (pure functions) ----------------------------

from worker.parse.authors import choose_author, clean_author  # noqa: E402
from worker.parse.dates import parse_date  # noqa: E402
from worker.parse.jsonld import read_json_ld  # noqa: E402
from worker.parse.metadata import Heading, read_metadata  # noqa: E402
from worker.parse.published import DateEvidence, choose_published  # noqa: E402
from worker.parse.titles import choose_title  # noqa: E402


@pytest.mark.parametrize(
    "wrapped",
    [
        '<![CDATA[{"@type": "NewsArticle", "author": {"@type": "Person", "name": "Ann Lee"}}]]>',
        '//<![CDATA[\n{"@type": "NewsArticle", "author": "Ann Lee"}\n//]]>',
        '<!--\n{"@type": "NewsArticle", "author": [{"name": "Ann Lee"}]}\n-->',
    ],
)
def test_json_ld_wrapped_in_cdata_or_comments(wrapped: str) -> None:
    json_ld = read_json_ld([wrapped])
    article = json_ld.article()
    assert article is not None
    assert json_ld.people(article, "author") == [("Ann Lee", False)]


def test_json_ld_graph_resolves_author_references_and_publisher() -> None:
    script = json.dumps(
        {
            "@graph": [
                {"@type": "WebPage", "name": "Page"},
                {
                    "@type": ["Article", "NewsArticle"],
                    "author": [{"@id": "#p1"}, {"@id": "#p2"}],
                    "publisher": {"@id": "#org"},
                },
                {"@type": "Person", "@id": "#p1", "name": "Ann Lee"},
                {"@type": "Person", "@id": "#p2", "givenName": "Bo", "familyName": "Ng"},
                {"@type": "NewsMediaOrganization", "@id": "#org", "name": "Daily Example"},
            ]
        }
    )
    json_ld = read_json_ld(["not json", script])
    article = json_ld.article()
    assert article is not None and "NewsArticle" in article.types
    assert json_ld.people(article, "author") == [("Ann Lee", False), ("Bo Ng", False)]
    assert json_ld.site_name() == "Daily Example"


@pytest.mark.parametrize(
    ("raw", "byline", "name"),
    [
        ("By Jane Doe", True, "Jane Doe"),
        ("Von Greta Lindqvist | 3. Mai 2024", True, "Greta Lindqvist"),
        ("Posted on May 3, 2024 by Jane Doe", True, "Jane Doe"),
        ("Ursula von der Leyen", True, "Ursula von der Leyen"),
        ("https://example.com/staff/jane-doe", False, None),
        ("@janedoe", False, None),
        ("example.com", False, None),
        ("wordpress_admin", False, None),
        ("Jane Doe, John Roe", False, "Jane Doe, John Roe"),
        # Trailing roles, degrees and agencies are no part of the name.
        ("Jane Doe, Staff Writer", False, "Jane Doe"),
        ("Jane Doe | Reuters", False, "Jane Doe"),
        ("Jane Doe, PhD", False, "Jane Doe"),
        ("BY JANE DOE", True, "JANE DOE"),
        ("By Jane Doe and John Roe", True, "Jane Doe and John Roe"),
        # German bylines: "Name am <date>", an author box's links, "Eingestellt von".
        ("Greta Lindqvist am 3. Mai", True, "Greta Lindqvist"),
        ("Greta Lindqvist Alle Artikel Kontakt", True, "Greta Lindqvist"),
        ("Eingestellt von Greta Lindqvist", True, "Greta Lindqvist"),
        # What an author box or a byline adds around the name.
        ("Greta Lindqvist Alles von Greta Lindqvist", True, "Greta Lindqvist"),
        ("Greta Lindqvist vor 5 Stunden Mehr", True, "Greta Lindqvist"),
        ("Von Greta Lindqvist Fr, 18.10.2019", True, "Greta Lindqvist"),
        ("Interview: Greta Lindqvist", True, "Greta Lindqvist"),
        ("~ Jane Doe", True, "Jane Doe"),
        ("jdoe \u00bb", True, "jdoe"),
        ("Jane Doe @janedoe", True, "Jane Doe"),
        ("Jane Doe,John Roe", False, "Jane Doe, John Roe"),
    ],
)
def test_clean_author(raw: str, byline: bool, name: str | None) -> None:
    assert clean_author(raw, byline=byline) == name


def test_byline_label_and_name_in_separate_elements_do_not_run_together() -> None:
    html = (
        b"<html><head><title>Harbour council approves terminal</title></head><body><article>"
        b'<h1>Harbour council approves terminal</h1><span class="byline">'
        b'<span class="screen-reader-text">Posted by</span><span class="author vcard">'
        b'<a href="https://t.example/author/jd/">Jane Doe</a></span></span><p>x</p>'
        b"</article></body></html>"
    )
    assert read_metadata(html, url="https://t.example/a").author == "Jane Doe"


def test_author_profile_url_falls_through_and_publisher_is_no_author() -> None:
    candidates = [
        ("https://example.com/staff/tom-reed", 4, False),
        ("The Harbour Times", 4, False),
        ("The Harbour Times", 1, True),
        ("By Tom Reed, Harbour Correspondent", 2, False),
    ]
    assert choose_author(candidates, ["The Harbour Times"]) == "Tom Reed"


def test_site_name_after_the_author_is_cut() -> None:
    assert choose_author([("Rob Reed, Island Post", 4, False)], ["Island Post"]) == "Rob Reed"
    assert choose_author([("Rob Reed, Ann Lee", 4, False)], ["Island Post"]) == "Rob Reed, Ann Lee"


def test_declared_co_authors_are_kept_when_bylines_name_only_the_first() -> None:
    candidates = [
        ("Ann Lee; Bo Ng", 5, False),
        ("Von Ann Lee", 4, False),
        ("Von Ann Lee", 4, False),
        ("By Ann Lee", 2, False),
        ("By Ann Lee and Bo Ng", 2, False),
        ("By Ann Lee and Bo Ng", 2, False),
    ]
    assert choose_author(candidates, []) == "Ann Lee and Bo Ng"
    # Initials after the name are no second author.
    initials = [("Ann Lee", 5, False), ("Ann Lee,AL", 4, False), ("Ann Lee", 2, False)]
    assert choose_author(initials, []) == "Ann Lee"


def test_author_agreement_outweighs_order() -> None:
    candidates = [("Staff", 4, False), ("Jane Doe", 3, False), ("By Jane Doe", 2, False)]
    assert choose_author(candidates, []) == "Jane Doe"


def test_personal_blog_author_named_like_the_site_is_kept() -> None:
    assert choose_author([("Andreas Kalt", 5, False)], ["Andreas Kalt"]) == "Andreas Kalt"


def headings(*items: tuple[str, bool]) -> list[Heading]:
    return [Heading(text, chrome) for text, chrome in items]


@pytest.mark.parametrize(
    ("meta", "document", "h1s", "sites", "title"),
    [
        # A declared title wins, with the site's name cut off.
        (["Ferry approved | Island Post"], "x", [], ["Island Post"], "Ferry approved"),
        # Without one, the logo h1 and the section h1 lose to the <title>'s headline.
        (
            [],
            "Pollen season starts early - Allergies Health Center - Wellbeing",
            [("Wellbeing", True), ("Allergies Health Center", False)],
            [],
            "Pollen season starts early",
        ),
        # An h1 that the <title> starts with is the headline, read whole.
        ([], "Council approves | Times", [("Council approves", False)], [], "Council approves"),
        (
            [],
            "Blog Archive » Interning of small integers in Python",
            [("Interning of small integers in Python", False)],
            [],
            "Interning of small integers in Python",
        ),
        # A separator inside a headline stays when nothing says it ends with a site.
        ([], "Derek Jarman · The Garden", [], [], "Derek Jarman · The Garden"),
        # The og:title that only names the site is no headline.
        (
            ["Island Post"],
            "Storm damages sea wall | Island Post",
            [],
            ["Island Post"],
            "Storm damages sea wall",
        ),
        # A kicker before the declared title is not in the h1: the h1 is the headline.
        (
            ["Harbour: Council approves the ferry terminal"],
            "x",
            [("Council approves the ferry terminal", False)],
            [],
            "Council approves the ferry terminal",
        ),
        (
            ["Ferry dispute - Council approves the terminal - Island Post"],
            "x",
            [("Council approves the terminal", False)],
            ["Island Post"],
            "Council approves the terminal",
        ),
        # A longer part before the h1 is the headline, the h1 a section's name.
        (
            ["Council approves the new ferry terminal at last - Harbour News"],
            "x",
            [("Harbour News", False)],
            [],
            "Council approves the new ferry terminal at last",
        ),
        # The h1 words the story otherwise than the shorter og:title: the reader sees the h1.
        (
            ["Council backs ferry terminal"],
            "Council backs ferry terminal | Island Post",
            [("Council backs new ferry terminal after a year of delays", False)],
            ["Island Post"],
            "Council backs new ferry terminal after a year of delays",
        ),
        # An h1 that puts a section before the declared title loses to it.
        (
            ["Council backs ferry terminal"],
            "x",
            [("Local News | Council backs ferry terminal", False)],
            [],
            "Council backs ferry terminal",
        ),
    ],
)
def test_choose_title(
    meta: list[str], document: str, h1s: list[tuple[str, bool]], sites: list[str], title: str
) -> None:
    chosen = choose_title(
        meta_titles=meta, document_title=document, headings=headings(*h1s), site_names=sites
    )
    assert chosen == title


def test_h1_text_is_read_whole_across_inline_elements() -> None:
    html = (
        b"<html><head><title>Harbour council approves terminal | Times</title></head><body>"
        b"<h1><span>Harbour council</span> approves <em>terminal</em></h1></body></html>"
    )
    assert (
        read_metadata(html, url="https://t.example/a").title == "Harbour council approves terminal"
    )


@pytest.mark.parametrize(
    "h1",
    [
        '<span class="article-heading__kicker">Harbour</span><span class="visually-hidden">: '
        '</span><span class="article-heading__title">Council approves terminal</span>',
        '<span class="dachzeile">Harbour</span> <span class="headline">Council approves terminal'
        "</span>",
        "<small>Harbour</small><br>Council approves terminal",
        '<span class="subtitle">Harbour</span> Council approves terminal',
        'Council approves terminal<span class="subtitle">After a year of delays</span>',
    ],
)
def test_kicker_inside_the_h1_is_no_part_of_the_headline(h1: str) -> None:
    html = (
        '<html><head><meta property="og:title" content="Harbour: Council approves terminal">'
        f"</head><body><article><h1>{h1}</h1><p>x</p></article></body></html>"
    ).encode()
    assert read_metadata(html, url="https://t.example/a").title == "Council approves terminal"


def test_h1_with_its_kicker_stays_a_headline_for_the_text_to_find() -> None:
    html = (
        b'<html><head></head><body><article><h1><span class="kicker">Harbour</span> '
        b"Council approves terminal</h1><p>x</p></article></body></html>"
    )
    meta = read_metadata(html, url="https://t.example/a")
    assert meta.title == "Council approves terminal"
    assert "Harbour Council approves terminal" in meta.headlines


def test_recipe_is_the_article_not_its_nested_reviews() -> None:
    recipe = {
        "@context": "https://schema.org",
        "@type": "Recipe",
        "name": "Plum cake",
        "author": {"@type": "Person", "name": "Mia Berg"},
        "datePublished": "2006-10-10",
        "review": [
            {
                "@type": "Review",
                "author": {"@type": "Person", "name": "baker77"},
                "datePublished": "2020-04-12",
            }
        ],
    }
    html = (
        f'<html><head><script type="application/ld+json">{json.dumps(recipe)}</script>'
        "</head><body><p>x</p></body></html>"
    ).encode()
    meta = read_metadata(html, url="https://r.example/plum-cake")
    assert meta.author == "Mia Berg"
    assert meta.published is not None and meta.published.date().isoformat() == "2006-10-10"


def no_visible_date() -> datetime | None:
    return None


def test_published_equal_to_the_modification_loses_to_an_earlier_publication() -> None:
    evidence = DateEvidence(
        specific=[utc("2025-06-04T08:00:00Z"), utc("2025-06-03T19:15:00Z")],
        generic=[],
        modified=[utc("2025-06-04T08:00:00Z")],
    )
    assert choose_published(evidence, no_visible_date) == utc("2025-06-03T19:15:00Z")


def test_visible_date_settles_publication_keys_that_disagree() -> None:
    evidence = DateEvidence([utc("2025-06-04T08:00:00Z"), utc("2025-06-02T10:00:00Z")], [], [])
    chosen = choose_published(evidence, lambda: datetime(2025, 6, 4, tzinfo=UTC))
    assert chosen == utc("2025-06-04T08:00:00Z")
    # Without a shown date, the earliest.
    assert choose_published(evidence, no_visible_date) == utc("2025-06-02T10:00:00Z")


def test_local_rendering_of_the_same_instant_gives_the_offset() -> None:
    local = datetime(2023, 11, 8, 23, 30, 59, tzinfo=UTC).replace(tzinfo=None)
    evidence = DateEvidence(
        [utc("2023-11-09T05:30:59Z")],
        [datetime.fromisoformat("2023-11-08T23:30:59-06:00"), local.replace(tzinfo=UTC)],
        [],
    )
    chosen = choose_published(evidence, no_visible_date)
    assert chosen is not None and chosen.isoformat() == "2023-11-08T23:30:59-06:00"


def test_local_time_written_without_offset_gives_the_offset() -> None:
    # <time datetime="2023-11-08 23:30:59"> beside "2023-11-09T05:30:59Z".
    naive_local = parse_date("2023-11-08 23:30:59")
    assert naive_local is not None
    evidence = DateEvidence([utc("2023-11-09T05:30:59Z")], [naive_local], [])
    chosen = choose_published(evidence, no_visible_date)
    assert chosen == utc("2023-11-09T05:30:59Z")
    assert chosen is not None and chosen.date().isoformat() == "2023-11-08"


# --- the day in the page's address -------------------------------------------------------


def test_date_in_url_reads_whole_days_in_the_path_only() -> None:
    from worker.parse.dates import date_in_url

    assert date_in_url("https://b.example/home/2017/7/12/unter-uns") == datetime(2017, 7, 12).date()
    assert date_in_url("https://b.example/2022-05-04-slug") == datetime(2022, 5, 4).date()
    assert date_in_url("https://b.example/2020/01/slug") is None  # a month is no day
    assert date_in_url("https://b.example/p?d=2020/01/01") is None  # the query is no path
    assert date_in_url("https://b.example/2019/02/30/x") is None


def test_utc_stamp_a_day_off_the_address_is_read_on_the_address_day() -> None:
    # 02:25 UTC on the 25th is the evening of the 24th where the page is written.
    html = (
        b'<html><head><meta property="article:published_time" content="2020-02-25T02:25:54+00:00">'
        b"</head><body><p>x</p></body></html>"
    )
    meta = read_metadata(html, url="https://six.example/2020/02/24/press-secretary-exits/")
    assert meta.published is not None
    assert meta.published.date().isoformat() == "2020-02-24"
    assert meta.published == utc("2020-02-25T02:25:54Z")  # the same instant


def test_stamp_with_its_own_offset_keeps_its_day_against_the_address() -> None:
    html = (
        b'<html><head><meta property="article:published_time" content="2022-05-07T13:43:46-05:00">'
        b"</head><body><p>x</p></body></html>"
    )
    meta = read_metadata(html, url="https://lib.example/futbol/2022/05/06/match-preview/")
    assert meta.published is not None and meta.published.date().isoformat() == "2022-05-07"


@pytest.mark.parametrize(
    ("stamp", "day"),
    [
        # A publication day stored as midnight in Berlin and written in UTC.
        ("2021-11-04T23:00:00Z", "2021-11-05"),
        ("2022-06-30T22:00:00+00:00", "2022-07-01"),
        # A stamp on the hour earlier in the day is a time, not a midnight.
        ("2022-06-30T14:00:00Z", "2022-06-30"),
        ("2022-06-30T23:00:00+01:00", "2022-06-30"),
        ("2022-06-30T23:00:12Z", "2022-06-30"),
    ],
)
def test_utc_midnight_east_of_greenwich_is_read_on_its_local_day(stamp: str, day: str) -> None:
    html = (
        f'<html><head><meta property="article:published_time" content="{stamp}">'
        "</head><body><p>x</p></body></html>"
    ).encode()
    meta = read_metadata(html, url="https://b.example/story")
    assert meta.published is not None and meta.published.date().isoformat() == day
    assert meta.published == parse_date(stamp)  # the same instant


def test_date_beside_the_headline_beats_a_teaser_or_comment_date() -> None:
    html = b"""<html><head><title>Ten inquiries and counting</title></head><body>
    <aside><p class="date">11 septembre 2018</p><a href="/other">Another story</a></aside>
    <article><h1>Ten inquiries and counting</h1>
    <div class="meta"><a href="/auteur/lc">Louise Carrel</a> | 30 septembre 2018</div>
    <p>Text of the story.</p>
    <div class="comment"><abbr class="date" title="2018-10-02T10:57:27Z">2 octobre 2018</abbr>
    </div></article></body></html>"""
    meta = read_metadata(html, url="https://r.example/politique/ten-inquiries")
    assert meta.published is not None and meta.published.date().isoformat() == "2018-09-30"


def test_date_beside_an_h2_headline_under_a_logo_h1() -> None:
    html = b"""<html><head><title>Ten inquiries</title></head><body>
    <div class="header"><h1><a href="/" class="logo"><img src="/logo.png"></a></h1></div>
    <p class="date">11 septembre 2018</p>
    <span class="meta"><a href="/auteur/lc">Louise Carrel</a> | <!-- time -->
    30 septembre 2018 <!-- /time --></span>
    <h2>Ten inquiries and counting</h2><p>Text of the story.</p></body></html>"""
    meta = read_metadata(html, url="https://r.example/politique/ten-inquiries")
    assert meta.published is not None and meta.published.date().isoformat() == "2018-09-30"


def test_utc_stamp_a_day_off_the_date_beside_the_headline_is_read_on_that_day() -> None:
    # 00:44 UTC on the 4th is the evening of the 3rd in Brazil, as the page writes.
    html = b"""<html><head>
    <meta property="article:published_time" content="2022-05-04T00:44:52Z"></head><body>
    <article><h1>Senate leader courts the court</h1><p>03/05/2022 21:44</p>
    <p>Text of the story.</p></article></body></html>"""
    meta = read_metadata(html, url="https://g.example/republica/senate-leader")
    assert meta.published == utc("2022-05-04T00:44:52Z")  # the same instant
    assert meta.published is not None and meta.published.date().isoformat() == "2022-05-03"


def test_address_day_beats_a_far_generic_date_but_not_a_publication_key() -> None:
    generic = (
        b'<html><head><meta name="date" content="2009-04-11T18:06:36Z"></head><body></body></html>'
    )
    meta = read_metadata(generic, url="https://lime.example/2019/10/22/repairing-old-devices/")
    assert meta.published == utc("2019-10-22T00:00:00Z")
    specific = generic.replace(b'name="date"', b'property="article:published_time"')
    meta = read_metadata(specific, url="https://lime.example/2019/10/22/repairing-old-devices/")
    assert meta.published == utc("2009-04-11T18:06:36Z")
