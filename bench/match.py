"""Benchmark of the compiled rule matcher (worker.match) against a naive baseline.

    python bench/match.py [--articles 2000] [--rules 100,1000,10000] [--naive-articles 20]

Everything is generated from a seeded RNG (no downloads): a Zipf-distributed
vocabulary of common English words and pseudo-words, ~5 KB articles with
typographic punctuation, numbers, and one article in ten carrying accented or
Cyrillic names; and rules in a realistic mix (names, compounds like S-300,
phrases, wildcards, NEAR, NOT, field prefixes).

Printed per rule count: compile time, articles/s and MB/s (one core, full
`RuleSet.match` including spans), matches per article, memory, and the speed-up
over a naive matcher. The naive baseline compiles one regular expression per
rule (an alternation of the rule's terms, word-bounded, case-insensitive) and
searches it in each article: less work than real matching (no boolean or NEAR
logic, no normalization), so the ratio is a lower bound. It runs on the first
`--naive-articles` articles only, and its rate is extrapolated from those.
"""

from __future__ import annotations

import argparse
import gc
import random
import re
import resource
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from worker.match import Document, RuleSet, compile_rules  # noqa: E402

SEED = 20261125

COMMON = (
    "the of and to in a is that for on was with he it as at by from his an were are which "
    "this be has had have not but its they their been after also who more one new said year "
    "two first other government would there when over into president minister officials "
    "people could last week state military country talks deal forces security foreign "
    "against told added between report according under while since during about before "
    "three most city region economic public million billion percent oil gas energy trade "
    "market prices border war peace election court police attack defence system missile "
    "sanctions agreement meeting statement spokesman agency ministry council national "
    "international support plans move leaders capital officials analysts according"
).split()
NAMES = (
    "Iran Russia Ukraine China Tehran Moscow Kyiv Beijing Washington Brussels Berlin Paris "
    "London Ankara Israel Gaza Syria Turkey Putin Zelensky Xi Biden Erdogan Macron Scholz "
    "Lavrov Blinken Shoigu Gerasimov Khamenei Raisi Netanyahu Gazprom Rosneft NATO OPEC IAEA"
).split()
ACCENTED = ["São Paulo", "Łódź", "Zürich", "Ankara’s", "Erdoğan", "Шойгу", "Москва", "Кремль"]
COMPOUNDS = ["S-300", "S-400", "F-16", "Su-35", "MiG-29", "T-90", "Kh-101", "Tu-95", "A-50"]
SYLLABLES = "ka ri to ma ne so lu vi pe da zo ra ki mo te na bu ge lo fi sa do mi ru ta".split()


def pseudo_words(rng: random.Random, count: int) -> list[str]:
    words: set[str] = set()
    while len(words) < count:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


@dataclass(frozen=True, slots=True)
class Corpus:
    articles: list[Document]
    vocabulary: list[str]  # long-tail words, used by rules too

    @property
    def size(self) -> int:
        return sum(len(d.title) + len(d.summary) + len(d.body) for d in self.articles)


def make_corpus(count: int, rng: random.Random) -> Corpus:
    tail = pseudo_words(rng, 20000)
    rng.shuffle(tail)  # so that no alphabetical slice of it is frequent
    words = COMMON + NAMES + tail
    # Zipf-like: common words dominate, the long tail shows up now and then.
    weights = [1.0 / (rank + 1) for rank in range(len(words))]
    articles = []
    for index in range(count):
        def sentence(length: int) -> str:
            chosen = rng.choices(words, weights, k=length)
            if rng.random() < 0.05:
                chosen.insert(rng.randrange(len(chosen)), rng.choice(COMPOUNDS))
            if rng.random() < 0.2:
                chosen.insert(rng.randrange(len(chosen)), str(rng.randint(1, 2030)))
            if index % 10 == 0 and rng.random() < 0.3:
                chosen.insert(rng.randrange(len(chosen)), rng.choice(ACCENTED))
            text = " ".join(chosen)
            if rng.random() < 0.2:
                text = text.replace(" ", " \u2014 ", 1)
            return f"\u201c{text.capitalize()},\u201d" if rng.random() < 0.1 else text.capitalize() + "."

        title = sentence(rng.randint(6, 10)).rstrip(".")
        summary = " ".join(sentence(rng.randint(10, 18)) for _ in range(2))
        paragraphs = []
        size = 0
        while size < 4600:
            paragraph = " ".join(sentence(rng.randint(8, 25)) for _ in range(rng.randint(2, 5)))
            paragraphs.append(paragraph)
            size += len(paragraph) + 2
        articles.append(Document(title, summary, "\n\n".join(paragraphs)))
    return Corpus(articles, tail)


def make_rules(count: int, corpus: Corpus, rng: random.Random) -> list[tuple[str, str]]:
    # Rules name specific things: words past the 5,000 most frequent of the
    # long tail (each in well under 2% of articles), not the tail's head.
    specific = corpus.vocabulary[5000:]
    long_words = [w for w in specific if len(w) >= 8]
    common = COMMON

    # Rules watch for something specific: a well-known name only ever comes
    # with a rarer word, as analysts write them.
    def known() -> str:
        return rng.choice(NAMES)

    def name() -> str:
        return rng.choice(specific).capitalize()

    def rare() -> str:
        return rng.choice(specific)

    def stem() -> str:
        return rng.choice(long_words)[:-2]

    def either() -> str:
        return f"({name()} OR {rare()} OR {rng.choice(COMPOUNDS)})"

    makers = [
        lambda: f"{known()} AND {rare()}",
        lambda: f"{rng.choice(COMPOUNDS)} AND ({name()} OR {known()} {rare()})",
        lambda: f'"{rng.choice(common)} {rare()}" OR "{rare()} {rng.choice(common)}"',
        lambda: f"{stem()}* AND {known()}",
        lambda: f"{rare()} NEAR/5 {either()}",
        lambda: f"{name()} {known()} NOT {rng.choice(common)}",
        lambda: f'title:{name()} OR text:"{rare()} {rare()}"',
        lambda: f"({rare()} OR {rare()} OR {name()}) AND NOT ({rare()} OR {rng.choice(common)})",
        lambda: f'"{stem()}* {rng.choice(common)}" NEAR/8 {known()}',
        lambda: f"{rng.choice(ACCENTED)} {rare()} OR {name()}",
    ]
    return [(f"rule-{i}", makers[i % len(makers)]()) for i in range(count)]


# -- naive baseline -------------------------------------------------------------

_TERM = re.compile(r'"([^"]*)"|([^\s()"]+)')
_OPERATORS = {"AND", "OR", "NOT"}


def naive_compile(rules: list[tuple[str, str]]) -> list[re.Pattern[str]]:
    patterns = []
    for _, query in rules:
        alternatives = []
        for phrase, bare in _TERM.findall(query):
            text = phrase or bare
            if text in _OPERATORS or text.startswith("NEAR/"):
                continue
            text = text.split(":", 1)[-1]
            words = re.findall(r"\w+", text)
            if not words:
                continue
            body = r"\W+".join(re.escape(w) for w in words)
            alternatives.append(rf"\b{body}" + (r"\w*" if text.endswith("*") else r"\b"))
        patterns.append(re.compile("|".join(alternatives), re.IGNORECASE))
    return patterns


def naive_rate(patterns: list[re.Pattern[str]], articles: list[Document]) -> float:
    start = time.perf_counter()
    for doc in articles:
        text = f"{doc.title}\n{doc.summary}\n{doc.body}"
        for pattern in patterns:
            pattern.search(text)
    return len(articles) / (time.perf_counter() - start)


# -- measurement ----------------------------------------------------------------


def compile_memory(rules: list[tuple[str, str]]) -> int:
    gc.collect()
    tracemalloc.start()
    ruleset = compile_rules(rules)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del ruleset
    return peak


def match_all(ruleset: RuleSet, articles: list[Document]) -> tuple[float, int]:
    matches = 0
    start = time.perf_counter()
    for doc in articles:
        matches += len(ruleset.match(doc))
    return time.perf_counter() - start, matches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rules", default="100,1000,10000")
    parser.add_argument("--naive-articles", type=int, default=20)
    args = parser.parse_args()

    rng = random.Random(SEED)
    corpus = make_corpus(args.articles, rng)
    megabytes = corpus.size / 1e6
    print(
        f"corpus: {len(corpus.articles)} articles, {megabytes:.1f} MB "
        f"({corpus.size / len(corpus.articles) / 1000:.1f} KB each), Python {sys.version.split()[0]}"
    )
    header = (
        f"{'rules':>6} {'compile s':>9} {'articles/s':>10} {'MB/s':>6} {'matches/art':>11} "
        f"{'compile peak MB':>15} {'naive art/s':>11} {'speed-up':>9}"
    )
    print(header)
    for count in (int(n) for n in args.rules.split(",")):
        rules = make_rules(count, corpus, random.Random(SEED + count))
        start = time.perf_counter()
        ruleset = compile_rules(rules)
        compile_seconds = time.perf_counter() - start
        ruleset.match(corpus.articles[0])  # warm caches, as a running worker would be
        seconds, matches = match_all(ruleset, corpus.articles)
        rate = len(corpus.articles) / seconds
        naive = naive_rate(naive_compile(rules), corpus.articles[: args.naive_articles])
        peak = compile_memory(rules) / 1e6
        print(
            f"{count:>6} {compile_seconds:>9.2f} {rate:>10.0f} {megabytes / seconds:>6.1f} "
            f"{matches / len(corpus.articles):>11.1f} {peak:>15.1f} {naive:>11.1f} "
            f"{rate / naive:>8.0f}x"
        )
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS: {max_rss:.0f} MB")


if __name__ == "__main__":
    main()
