"""Which language detector wirewatch uses: accuracy on short news texts, speed, memory, size.

    python bench/language.py [--corpus ../shared/corpus] [--detectors py3langid,pycld2,lingua]

Snippets: 200 characters cut from the main text (as wirewatch extracts it)
of every page of the trafilatura evaluation set whose HTML declares its
language (`<html lang>`, `content-language`, `og:locale`), one per page,
taken from the middle of the text at a word start; plus the Russian news
texts below. A snippet counts as right when the detector names the declared
language (the primary subtag: `en-GB` is `en`; Norwegian `nb`/`nn`/`no` are
one). Pages sometimes declare a language they are not written in (a
template's default), so the best score has a ceiling under 100%; the rows
where every detector disagrees with the declaration are counted apart.

`wirewatch` is `worker.match.language.detect_language`: py3langid limited to
the languages of the news. Each detector runs in a fresh subprocess: memory is that process's peak
RSS less the interpreter's before the import; time is CPU time per call on
the snippets and on whole articles (their first 2,000 characters, which is
wirewatch's own detector reads only the first 600); install size is the size on disk of the
packages it brings. fasttext-langdetect is not measured: it downloads its
model from the network the first time it runs, which a worker must not need.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import resource
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SNIPPET = 200
ARTICLE = 2000

# Written for this benchmark: Russian news in the register of the wires.
RUSSIAN = [
    "Министерство иностранных дел России заявило во вторник, что новые санкции Евросоюза "
    "против российских банков не останутся без ответа. Как сообщил официальный представитель "
    "ведомства, Москва рассматривает зеркальные меры.",
    "Президент Владимир Путин провёл в Кремле совещание с членами Совета безопасности. "
    "Обсуждались вопросы обеспечения энергетической безопасности и ситуация на Ближнем Востоке.",
    "Глава МИД Сергей Лавров встретился с министром иностранных дел Ирана. Стороны обсудили "
    "ядерную программу Тегерана и перспективы возобновления переговоров в Вене.",
    "Центральный банк сохранил ключевую ставку на прежнем уровне. По словам председателя "
    "регулятора, инфляция замедляется, но риски для экономики остаются высокими.",
    "В Москве прошли переговоры делегаций России и Турции о поставках газа. Стороны "
    "договорились продолжить консультации на уровне экспертов в следующем месяце.",
    "Суд приговорил бывшего губернатора к восьми годам колонии по делу о взятке. Защита "
    "намерена обжаловать приговор в апелляционной инстанции.",
    "Сильный снегопад парализовал движение на трассах Подмосковья. Синоптики предупреждают, "
    "что непогода сохранится до конца недели, а температура опустится до минус двадцати.",
    "Государственная дума приняла в первом чтении законопроект о цифровом рубле. Документ "
    "предусматривает поэтапное внедрение новой формы национальной валюты.",
    "Нефтяные компании увеличили экспорт в страны Азии на фоне ограничений со стороны "
    "Европы. Аналитики ожидают, что цены на топливо внутри страны останутся стабильными.",
    "Российские военные сообщили о перехвате беспилотников над Белгородской областью. "
    "По данным губернатора, пострадавших нет, повреждены несколько жилых домов.",
    "Олимпийский чемпион объявил о завершении спортивной карьеры. В интервью он рассказал, "
    "что планирует заняться тренерской работой и поддержкой молодых спортсменов.",
    "Правительство утвердило план мер по поддержке малого бизнеса в регионах. На эти цели "
    "из федерального бюджета будет направлено более ста миллиардов рублей.",
    "Учёные Новосибирского университета представили новый метод очистки воды. Разработка "
    "уже прошла испытания на нескольких предприятиях Сибири.",
    "Министр обороны посетил с рабочей поездкой Калининградскую область и провёл совещание "
    "о ходе строительства военных объектов.",
    "Авиакомпания отменила рейсы в несколько городов Европы из-за закрытия воздушного "
    "пространства. Пассажирам предложено вернуть деньги за билеты.",
    "Мэр города сообщил о завершении ремонта крупнейшего моста через реку. Движение по нему "
    "будет открыто в субботу после торжественной церемонии.",
    "Эксперты отмечают рост цен на продукты питания в начале года. Больше всего подорожали "
    "овощи, сахар и крупы, сообщает статистическое ведомство.",
    "Посол России в Вашингтоне назвал заявления американской стороны провокационными и "
    "призвал к диалогу по вопросам стратегической стабильности.",
    "На Дальнем Востоке завершились совместные учения флотов России и Китая, в которых "
    "приняли участие более двадцати кораблей и подводных лодок.",
    "В Санкт-Петербурге открылся международный экономический форум. В первый день "
    "участники подписали соглашения на сумму свыше триллиона рублей.",
]


def snippet(text: str) -> str:
    """SNIPPET characters from the middle of a text, starting at a word."""
    flat = re.sub(r"\s+", " ", text).strip()
    if len(flat) <= SNIPPET * 2:
        return flat[:SNIPPET]
    start = max(0, len(flat) // 3)
    space = flat.find(" ", start)
    start = space + 1 if 0 <= space < len(flat) - SNIPPET else max(0, len(flat) - SNIPPET)
    return flat[start : start + SNIPPET]


def load_samples(corpus: Path) -> list[tuple[str, str, str]]:
    """(declared language, snippet, article text) for every usable page, and the Russian texts."""
    from worker.parse import extract_article

    evaldata = json.loads((corpus / "trafilatura-eval" / "evaldata.json").read_text("utf-8"))
    samples = []
    for url, item in evaldata.items():
        path = corpus / "trafilatura-eval" / "pages" / f"{item['file']}.gz"
        if not path.exists():
            path = corpus / "trafilatura-eval" / "pages" / item["file"]
        if not path.exists():
            continue
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        page = extract_article(data, url=url)
        if page is None or not page.language or len(page.text) < SNIPPET:
            continue
        language = {"nb": "no", "nn": "no"}.get(page.language, page.language)
        samples.append((language, snippet(page.text), page.text[:ARTICLE]))
    samples += [("ru", snippet(text), text) for text in RUSSIAN]
    return samples


# -- detectors -------------------------------------------------------------------


def _py3langid() -> Callable[[str], str]:
    from py3langid.langid import classify

    return lambda text: str(classify(text)[0])


def _pycld2() -> Callable[[str], str]:
    import pycld2

    def detect(text: str) -> str:
        clean = text.encode("utf-8", "ignore").decode("utf-8")
        # CLD2 refuses control characters; they carry no language anyway.
        clean = "".join(c for c in clean if c >= " " or c in "\n\t")
        _, _, details = pycld2.detect(clean, bestEffort=True)
        code = str(details[0][1])
        return code.split("-")[0] if code != "un" else ""

    return detect


def _lingua(low: bool) -> Callable[[str], str]:
    from lingua import LanguageDetectorBuilder

    builder = LanguageDetectorBuilder.from_all_languages()
    detector = (builder.with_low_accuracy_mode() if low else builder).build()

    def detect(text: str) -> str:
        found = detector.detect_language_of(text)
        return found.iso_code_639_1.name.lower() if found is not None else ""

    return detect


def _wirewatch() -> Callable[[str], str]:
    from worker.match.language import detect_language

    return lambda text: detect_language(text) or ""


DETECTORS: dict[str, tuple[Callable[[], Callable[[str], str]], tuple[str, ...]]] = {
    "wirewatch": (_wirewatch, ("py3langid", "numpy")),
    "py3langid": (_py3langid, ("py3langid", "numpy")),
    "pycld2": (_pycld2, ("pycld2",)),
    "lingua": (lambda: _lingua(False), ("lingua",)),
    "lingua-low": (lambda: _lingua(True), ("lingua",)),
}


def install_size(packages: tuple[str, ...]) -> float:
    """MB on disk of the packages' directories (and single-file modules) in site-packages."""
    import importlib.util

    total = 0
    for name in packages:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        root = origin.parent if origin.name == "__init__.py" else origin
        files = root.rglob("*") if root.is_dir() else [root]
        total += sum(f.stat().st_size for f in files if f.is_file())
    return total / 1e6


def measure(name: str, samples: list[tuple[str, str, str]]) -> dict[str, object]:
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    make, packages = DETECTORS[name]
    start = time.process_time()
    detect = make()
    detect("warm up the model: a first call loads what is loaded lazily")
    load = time.process_time() - start
    start = time.process_time()
    answers = [detect(text) for _, text, _ in samples]
    per_snippet = (time.process_time() - start) / len(samples)
    start = time.process_time()
    for _, _, article in samples:
        detect(article)
    per_article = (time.process_time() - start) / len(samples)
    rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    return {
        "answers": answers,
        "load_s": load,
        "snippet_ms": per_snippet * 1000,
        "article_ms": per_article * 1000,
        "rss_mb": rss,
        "install_mb": install_size(packages),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = os.environ.get("WIREWATCH_CORPUS", str(ROOT.parent / "shared" / "corpus"))
    parser.add_argument("--corpus", default=default)
    parser.add_argument("--detectors", default=",".join(DETECTORS))
    parser.add_argument("--only", help=argparse.SUPPRESS)  # one detector, in a subprocess
    parser.add_argument("--samples", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:
        samples = json.loads(Path(args.samples).read_text("utf-8"))
        print(json.dumps(measure(args.only, samples)))
        return
    corpus = Path(args.corpus)
    if not (corpus / "trafilatura-eval").is_dir():
        sys.exit(f"no corpus at {corpus}: pass --corpus or set WIREWATCH_CORPUS")
    samples = load_samples(corpus)
    languages = Counter(language for language, _, _ in samples)
    print(f"{len(samples)} snippets of {SNIPPET} chars: {dict(languages.most_common())}")
    store = Path(os.environ.get("TMPDIR", "/tmp")) / f"wirewatch-language-{os.getpid()}.json"
    store.write_text(json.dumps(samples), "utf-8")
    results: dict[str, dict[str, object]] = {}
    try:
        for name in args.detectors.split(","):
            command = [sys.executable, __file__, "--only", name, "--samples", str(store)]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"{name}: failed: {done.stderr.strip().splitlines()[-1:]}")
                continue
            results[name] = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        store.unlink()
    declared = [language for language, _, _ in samples]
    # Pages every detector reads as another language (the same one): likely mislabelled.
    answers = {name: result["answers"] for name, result in results.items()}
    doubtful = {
        i
        for i, language in enumerate(declared)
        if answers
        and len({str(a[i]) for a in answers.values()}) == 1  # type: ignore[index]
        and next(iter(answers.values()))[i] != language  # type: ignore[index]
    }
    print(f"{len(doubtful)} snippets where every detector agrees on another language")
    header = (
        f"{'detector':>11} {'right':>7} {'excl. doubtful':>14} {'ru':>6} {'ms/snippet':>10} "
        f"{'ms/article':>10} {'load s':>6} {'RSS MB':>6} {'install MB':>10}"
    )
    print(header)
    for name, result in results.items():
        got: list[str] = result["answers"]  # type: ignore[assignment]
        right = sum(g == d for g, d in zip(got, declared, strict=True))
        kept = [i for i in range(len(declared)) if i not in doubtful]
        right_kept = sum(got[i] == declared[i] for i in kept)
        russian = [i for i, d in enumerate(declared) if d == "ru"]
        right_ru = sum(got[i] == "ru" for i in russian)
        print(
            f"{name:>11} {right / len(declared):>7.1%} {right_kept / len(kept):>14.1%} "
            f"{right_ru / len(russian):>6.0%} {result['snippet_ms']:>10.3f} "
            f"{result['article_ms']:>10.3f} {result['load_s']:>6.2f} {result['rss_mb']:>6.0f} "
            f"{result['install_mb']:>10.1f}"
        )
    for name, result in results.items():
        found = cast("list[str | None]", result["answers"])
        misses = Counter(
            (declared[i], got_i)
            for i, got_i in enumerate(found)
            if got_i != declared[i] and i not in doubtful
        )
        print(f"{name} misses (declared, detected):", dict(misses.most_common(8)))


if __name__ == "__main__":
    main()
