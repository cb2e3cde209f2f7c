"""load_config on valid directories: defaults, lookups, fingerprint, edge cases."""

from __future__ import annotations

import shutil
from datetime import time, timedelta
from pathlib import Path

import pytest

from worker.config import (
    Config,
    Rule,
    Settings,
    Source,
    load_config,
    load_settings,
)
from worker.errors import ConfigError

EXAMPLE = Path(__file__).parent.parent / "config"


def write(directory: Path, **files: str) -> Path:
    for name, text in files.items():
        (directory / name.replace("_", ".", 1)).write_text(text, encoding="utf-8")
    return directory


MINIMAL = {
    "sources_yaml": "sources:\n  - id: a\n    url: https://example.org/feed\n",
    "rules_yaml": "rules:\n  - id: r\n    query: iran\n",
}


def issues_of(directory: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(directory, {})
    return [str(issue).replace(f"{directory}/", "") for issue in caught.value.issues]


def test_example_config_loads() -> None:
    config = load_config(EXAMPLE, {})

    assert {s.id for s in config.sources} >= {"moscow-times", "bbc-world", "al-jazeera", "tass"}
    moscow = config.source("moscow-times")
    assert moscow is not None
    assert moscow.interval == timedelta(minutes=2)
    assert "Support The Moscow Times!" in moscow.strip
    rules = {rule.id: rule for rule in config.rules}
    assert rules["s300-iran"].mode == "instant"
    assert rules["sanctions"].mode == "digest"
    assert "NEAR/" in rules["sanctions"].query
    assert rules["sanctions"].digest == (time(8), time(18))
    # Every setting is commented out: the example runs on the defaults.
    assert config.settings == Settings()


def test_defaults_apply_to_sources_that_leave_them_out(tmp_path: Path) -> None:
    write(
        tmp_path,
        sources_yaml=(
            "defaults: {interval: 10m, full_text: false}\n"
            "sources:\n"
            "  - id: a\n    url: https://example.org/a\n"
            "  - id: b\n    url: https://example.org/b\n    interval: 1h30m\n"
            "    full_text: true\n    name: Bee News\n"
        ),
        rules_yaml=MINIMAL["rules_yaml"],
    )
    config = load_config(tmp_path, {})

    a, b = config.sources
    assert (a.interval, a.full_text, a.name, a.type, a.robots) == (
        timedelta(minutes=10),
        False,
        None,  # named by its feed's title once polled: Config.source_name
        "auto",
        True,
    )
    assert (b.interval, b.full_text, b.name) == (timedelta(hours=1, minutes=30), True, "Bee News")


def test_built_in_defaults_without_defaults_section() -> None:
    source = Source(id="a", url="https://example.org/")
    assert (source.interval, source.full_text, source.name) == (timedelta(minutes=5), True, None)


def test_a_source_is_named_by_its_name_else_its_own_title_else_its_id(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, **MINIMAL), {})
    [a] = config.sources
    assert a.name is None
    assert config.source_name("a", "A Feed's Title") == "A Feed's Title"
    assert config.source_name("a", None) == "a"
    (tmp_path / "named").mkdir()
    named_sources = MINIMAL["sources_yaml"] + "    name: Named\n"
    named = load_config(write(tmp_path / "named", **{**MINIMAL, "sources_yaml": named_sources}), {})
    assert named.source_name("a", "A Feed's Title") == "Named"
    assert config.source_name("removed-since", "Its Old Title") == "Its Old Title"


def test_settings_file_is_optional_and_apprise_file_too(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, **MINIMAL), {})

    assert config.settings == Settings()
    assert config.targets == ()
    assert config.directory == tmp_path


def test_settings_values(tmp_path: Path) -> None:
    write(
        tmp_path,
        settings_yaml=(
            "timezone: Europe/Moscow\n"
            "digest: [18:00, '7:30']\n"  # unquoted 18:00 must not become 64800
            "contact: ops@example.org\n"
            "fetch: {timeout: 45s, max_bytes: 2_000_000}\n"
            "near_duplicate: {threshold: 0.9}\n"
            "seen_retention: 180d\n"
        ),
        **MINIMAL,
    )
    settings = load_config(tmp_path, {}).settings

    assert settings.digest == (time(7, 30), time(18))
    assert settings.zone.key == "Europe/Moscow"
    assert settings.fetch.timeout == timedelta(seconds=45)
    assert settings.fetch.max_bytes == 2_000_000
    assert settings.fetch.max_redirects == 5
    assert settings.near_duplicate.threshold == 0.9
    assert settings.near_duplicate.window == timedelta(days=3)
    assert settings.seen_retention == timedelta(days=180)
    assert settings.http_user_agent.endswith("(+ops@example.org)")


def test_load_settings_alone(tmp_path: Path) -> None:
    assert load_settings(tmp_path) == Settings()
    write(tmp_path, settings_yaml="tick: 5s\n")
    assert load_settings(tmp_path).tick == timedelta(seconds=5)
    write(tmp_path, settings_yaml="tick: 5 s s\n")
    with pytest.raises(ConfigError, match=r"settings.yaml:1: tick: invalid duration"):
        load_settings(tmp_path)


def test_rules_for_matches_ids_and_tags(tmp_path: Path) -> None:
    write(
        tmp_path,
        sources_yaml=(
            "sources:\n"
            "  - {id: mt, url: 'https://example.org/mt', tags: [russia]}\n"
            "  - {id: bbc, url: 'https://example.org/bbc', tags: world}\n"
        ),
        rules_yaml=(
            "rules:\n"
            "  - {id: everywhere, query: a}\n"
            "  - {id: by-tag, query: b, sources: [russia]}\n"
            "  - {id: by-id, query: c, sources: bbc}\n"
        ),
    )
    config = load_config(tmp_path, {})
    mt, bbc = config.source("mt"), config.source("bbc")
    assert mt is not None and bbc is not None

    assert [r.id for r in config.rules_for(mt)] == ["everywhere", "by-tag"]
    assert [r.id for r in config.rules_for(bbc)] == ["everywhere", "by-id"]
    assert bbc.tags == ("world",)
    assert config.source("nope") is None


def test_fingerprint_changes_with_any_file(tmp_path: Path) -> None:
    write(tmp_path, **MINIMAL)
    first = load_config(tmp_path, {}).fingerprint
    assert load_config(tmp_path, {}).fingerprint == first

    write(tmp_path, settings_yaml="# nothing set\n")
    second = load_config(tmp_path, {}).fingerprint
    write(tmp_path, rules_yaml=MINIMAL["rules_yaml"] + "    mode: instant\n")
    third = load_config(tmp_path, {}).fingerprint

    assert len({first, second, third}) == 3


def test_models_are_frozen() -> None:
    source = Source(id="a", url="https://example.org/")
    with pytest.raises(ValueError, match="frozen"):
        source.id = "b"
    config = Config(Settings(), (source,), (), (), Path("."))
    with pytest.raises(AttributeError):
        config.rules = ()  # type: ignore[misc]


def test_rule_query_is_checked_when_built_in_code() -> None:
    with pytest.raises(ValueError, match="column"):
        Rule(id="r", query="(iran")


def test_environ_fills_apprise_placeholders(tmp_path: Path) -> None:
    write(
        tmp_path,
        apprise_yml="version: 1\nurls:\n  - json://${HOOK_HOST}/hook:\n      tag: admin\n",
        **MINIMAL,
    )
    config = load_config(tmp_path, {"HOOK_HOST": "hooks.example.org"})

    assert len(config.targets) == 1
    assert config.targets[0].tags == frozenset({"admin"})
    assert issues_of(tmp_path)[0].startswith("apprise.yml:3:")


def test_missing_directory() -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(Path("no/such/dir"), {})


def test_both_required_files_missing(tmp_path: Path) -> None:
    assert issues_of(tmp_path) == [
        "sources.yaml: file not found; it is required",
        "rules.yaml: file not found; it is required",
    ]


def test_wrong_extension_is_named(tmp_path: Path) -> None:
    write(tmp_path, rules_yaml=MINIMAL["rules_yaml"])
    (tmp_path / "sources.yml").write_text(MINIMAL["sources_yaml"])
    (tmp_path / "apprise.yaml").write_text("version: 1\n")

    assert issues_of(tmp_path) == [
        "sources.yaml: file not found (there is sources.yml: rename it to sources.yaml)",
        "apprise.yaml: rename it to apprise.yml",
    ]


def test_empty_lists_are_valid(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, sources_yaml="sources:\n", rules_yaml="rules: []\n"), {})
    assert (config.sources, config.rules) == ((), ())


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    write(tmp_path, sources_yaml="- id: a\n", rules_yaml="")
    assert issues_of(tmp_path) == [
        "sources.yaml:1: expected a mapping of keys at the top level",
        "rules.yaml:1: rules: required key is missing",
    ]


def test_yaml_merge_keys_and_anchors(tmp_path: Path) -> None:
    write(
        tmp_path,
        sources_yaml=(
            "base: &base {interval: 1m, tags: [russia]}\n"
            "sources:\n"
            "  - <<: *base\n    id: a\n    url: https://example.org/a\n"
        ),
        rules_yaml=MINIMAL["rules_yaml"],
    )
    # `base:` is not a sources.yaml key, and says so on its own line.
    assert issues_of(tmp_path) == [
        "sources.yaml:1: base: unknown key (expected one of: defaults, sources)"
    ]


def test_source_refs_are_not_checked_when_sources_yaml_is_unreadable(tmp_path: Path) -> None:
    write(
        tmp_path,
        sources_yaml="sources: [\n",
        rules_yaml="rules:\n  - {id: r, query: x, sources: [a, zzz]}\n",
    )
    assert [issue.split(":")[0] for issue in issues_of(tmp_path)] == ["sources.yaml"]


def test_a_broken_source_still_counts_as_known(tmp_path: Path) -> None:
    write(
        tmp_path,
        sources_yaml="sources:\n  - id: a\n    url: nope\n    tags: [russia]\n",
        rules_yaml="rules:\n  - {id: r, query: x, sources: [a, russia, zzz]}\n",
    )
    assert issues_of(tmp_path) == [
        "sources.yaml:3: sources[0].url: 'nope' is not an http:// or https:// URL",
        "rules.yaml:2: rules[0].sources[2]: 'zzz' is neither a source id nor a tag in sources.yaml",
    ]


def test_example_is_copyable(tmp_path: Path) -> None:
    # Users start by copying config/ elsewhere; nothing in it may depend on its path.
    shutil.copytree(EXAMPLE, tmp_path / "config")
    assert load_config(tmp_path / "config", {}).fingerprint == load_config(EXAMPLE, {}).fingerprint


def test_commented_apprise_examples_work_once_uncommented(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path, dirs_exist_ok=True)
    lines, active = [], False
    for line in (EXAMPLE / "apprise.yml").read_text().splitlines():
        if line.startswith("# urls:"):
            active, line = True, line[2:]
        elif active:
            line = "  " + line[4:] if line.startswith("#   ") else line.lstrip("#")
        lines.append(line)
    (tmp_path / "apprise.yml").write_text("\n".join(lines) + "\n")
    environ = {
        "SMTP_USER": "wirewatch",
        "SMTP_PASSWORD": "secret",
        "SMTP_HOST": "smtp.example.org",
        "TELEGRAM_BOT_TOKEN": "123456789:AABBCCDDEEFFGGHHIIJJKKLLMMNNOOPPQQ",
        "TELEGRAM_CHAT_ID": "-1001234567890",
        "SLACK_TOKEN_A": "T1JJ3T3L2",
        "SLACK_TOKEN_B": "A1BRTD4JD",
        "SLACK_TOKEN_C": "TIiajkdnlazkcOXrIdevi7FQ",
        "MATRIX_USER": "wirewatch",
        "MATRIX_PASSWORD": "secret",
    }
    config = load_config(tmp_path, environ)

    tags = [target.tags for target in config.targets]
    assert len(tags) == 5
    assert frozenset().union(*tags) == {"analysts", "newsroom", "admin"}
    assert all("secret" not in target.safe_url for target in config.targets)


def test_max_age_defaults_to_seven_days_and_a_source_may_set_its_own(tmp_path: Path) -> None:
    write(
        tmp_path,
        sources_yaml=(
            "sources:\n"
            "  - id: plain\n    url: https://example.org/feed\n"
            "  - id: archive\n    url: https://example.org/archive\n    max_age: 30d\n"
        ),
        rules_yaml=MINIMAL["rules_yaml"],
    )
    config = load_config(tmp_path, {})
    plain, archive = config.sources

    assert config.settings.max_age == timedelta(days=7)
    assert plain.max_age is None
    assert config.max_age(plain) == timedelta(days=7)
    assert config.max_age(archive) == timedelta(days=30)


def test_max_age_from_settings_then_defaults_then_the_source(tmp_path: Path) -> None:
    write(
        tmp_path,
        settings_yaml="max_age: 2d\n",
        sources_yaml=(
            "defaults: {max_age: 12h}\n"
            "sources:\n"
            "  - id: plain\n    url: https://example.org/feed\n"
            "  - id: own\n    url: https://example.org/own\n    max_age: 3d\n"
        ),
        rules_yaml=MINIMAL["rules_yaml"],
    )
    config = load_config(tmp_path, {})

    assert config.settings.max_age == timedelta(days=2)
    assert [config.max_age(source) for source in config.sources] == [
        timedelta(hours=12),
        timedelta(days=3),
    ]


def test_max_age_may_not_outlast_seen_retention(tmp_path: Path) -> None:
    write(
        tmp_path,
        settings_yaml="seen_retention: 10d\nmax_age: 5d\n",
        sources_yaml="defaults:\n  max_age: 11d\n" + MINIMAL["sources_yaml"],
        rules_yaml=MINIMAL["rules_yaml"],
    )
    assert issues_of(tmp_path) == [
        "sources.yaml:2: defaults.max_age: 11d is longer than seen_retention (10d): "
        "entries forgotten while still in the feed would alert again"
    ]


def test_sources_share_alike_parts_and_keep_their_own_credentials(tmp_path: Path) -> None:
    sources = "sources:\n" + "".join(
        f"  - id: s{n}\n    url: https://example.org/{n}\n" for n in range(3)
    )
    sources += (
        "  - id: private\n    url: https://intra.example.org/feed\n"
        "    headers: {X-Token: '${TOKEN}'}\n"
    )
    write(tmp_path, sources_yaml=sources, rules_yaml=MINIMAL["rules_yaml"])

    config = load_config(tmp_path, {"TOKEN": "t0ken"})
    again = load_config(tmp_path, {"TOKEN": "t0ken"})

    plain = config.sources[:3]
    # One copy of what is alike (memory: every worker holds every source) ...
    assert plain[0].model_fields_set is plain[2].model_fields_set
    assert plain[0].headers is plain[1].headers
    # ... and every source still says what it said, the secret one included.
    assert config.sources == again.sources
    assert [s.credentials for s in plain] == [None, None, None]
    private = config.source("private")
    assert private is not None and private.credentials is not None
    assert private.credentials.headers == (("X-Token", "t0ken"),)
    assert config.secrets.values == frozenset({"t0ken"})
    assert plain[0].model_copy(update={"name": "Wire"}).name == "Wire"
    assert plain[0].name is None and "name" not in plain[1].model_fields_set
