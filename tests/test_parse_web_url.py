"""parse_web_url: a link that cannot be used is a reason, never an exception (docs/security.md)."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.parse.urls import BadUrl, WebUrl, parse_web_url

BAD = {
    "http://0177.0.0.1/x": "dotted-quad",  # octal: 127.0.0.1 to the C resolver
    "http://0x7f.1/": "dotted-quad",
    "http://2130706433/": "dotted-quad",
    "http://127.1/": "dotted-quad",
    "http://☃.net/": "not a usable URL",  # no IDNA 2008 form
    "http://[::1/": "not a URL",
    "http://example.com:99999/": "not a URL",
    "http:///path": "no host",
    "ftp://example.com/file": "not an http or https URL",
    "javascript:alert(1)": "not an http or https URL",
    "http://ex ample.com/": "characters",
    "http://%41.example/": "characters",
}


@pytest.mark.parametrize("url", sorted(BAD))
def test_unusable_links_come_back_with_a_reason(url: str) -> None:
    checked = parse_web_url(url)
    assert isinstance(checked, BadUrl), checked
    assert BAD[url] in checked.reason
    assert checked.url == url


@pytest.mark.parametrize(
    ("url", "host", "port"),
    [
        ("https://Example.ORG/a?b=1", "example.org", None),
        ("http://bücher.de/x", "xn--bcher-kva.de", None),
        ("https://1.2.3.4:8443/feed", "1.2.3.4", 8443),
        ("http://[2001:db8::1]/rss", "2001:db8::1", None),
        ("https://123.example/", "123.example", None),
    ],
)
def test_usable_links_come_back_normalised(url: str, host: str, port: int | None) -> None:
    checked = parse_web_url(url)
    assert isinstance(checked, WebUrl), checked
    assert (checked.host, checked.port) == (host, port)
    httpx.URL(checked.url)  # what the fetcher will build from it


_HOSTS = st.text(alphabet=st.sampled_from("abc019.-x[]:%@☃éß_ \u202e\x00"), min_size=0, max_size=20)


@given(
    scheme=st.sampled_from(["http", "https", "HTTP", "ftp", ""]),
    host=_HOSTS,
    port=st.one_of(st.just(""), st.integers(-5, 70000).map(lambda n: f":{n}")),
    rest=st.text(max_size=10),
)
def test_no_link_raises(scheme: str, host: str, port: str, rest: str) -> None:
    url = f"{scheme}://{host}{port}/{rest}"
    checked = parse_web_url(url)
    if isinstance(checked, WebUrl):
        httpx.URL(checked.url)  # a usable link is one the fetcher accepts


@given(st.text(max_size=60))
def test_no_text_raises(text: str) -> None:
    parse_web_url(text)
