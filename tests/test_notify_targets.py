"""load_targets: ${NAME} from the environment, Apprise parsing, errors with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.errors import ConfigError
from worker.fetch.netguard import WEBHOOK_SCHEMES, is_webhook
from worker.notify import Target, choose_format, load_targets


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "apprise.yml"
    path.write_text(text, encoding="utf-8")
    return path


def issues_of(path: Path, environ: dict[str, str]) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ConfigError) as caught:
        load_targets(path, environ)
    return [(i.line, i.field, i.message) for i in caught.value.issues]


def test_absent_or_empty_file_has_no_targets(tmp_path: Path) -> None:
    assert load_targets(tmp_path / "missing.yml", {}) == ()
    assert load_targets(write(tmp_path, ""), {}) == ()
    assert load_targets(write(tmp_path, "# nothing yet\n"), {}) == ()
    assert load_targets(write(tmp_path, "urls:\n"), {}) == ()


def test_urls_with_tags_and_env_substitution(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "version: 1\n"
        "urls:\n"
        "  - mailto://${SMTP_USER}:${SMTP_PASS}@mail.example.org:2525/desk@example.org:\n"
        "      - tag: analysts, admin\n"
        "  - json://hooks.example.org/in/${HOOK_TOKEN}\n",
    )
    env = {"SMTP_USER": "bot", "SMTP_PASS": "s3cret'!*x", "HOOK_TOKEN": "tok123456"}
    mail, hook = load_targets(path, env)

    assert mail.tags == frozenset({"analysts", "admin"})
    assert mail.format == "html"
    assert "bot" in mail.url and "desk%40example.org" in mail.url
    # A value with YAML syntax in it stays one value: it is filled after parsing.
    assert "s3cret" in mail.url and "s3cret" not in mail.safe_url
    assert hook.tags == frozenset()
    assert hook.format == "text"
    assert "tok123456" in hook.url
    # repr shows the safe URL only (Apprise decides what it masks; json:// paths are kept).
    assert "s3cret" not in repr(mail)


def test_target_id_is_stable_and_distinct(tmp_path: Path) -> None:
    path = write(tmp_path, "urls:\n  - json://a.example.org/x\n  - json://b.example.org/x\n")
    first = load_targets(path, {})
    again = load_targets(path, {})
    assert [t.id for t in first] == [t.id for t in again]
    assert len({t.id for t in first}) == 2
    assert all(len(t.id) == 16 for t in first)


def test_same_url_twice_is_one_target_with_all_tags(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "urls:\n  - json://a.example.org/x:\n      - tag: one\n      - tag: two\n",
    )
    (target,) = load_targets(path, {})
    assert target.tags == frozenset({"one", "two"})


def test_global_tags_apply(tmp_path: Path) -> None:
    path = write(tmp_path, "tag: everyone-here\nurls:\n  - json://a.example.org/x\n")
    (target,) = load_targets(path, {})
    assert target.tags == frozenset({"everyone-here"})


def test_groups_add_the_group_name_to_member_targets(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "groups:\n  analysts: alice, bob\n"
        "urls:\n"
        "  - json://a.example.org/x:\n      - tag: alice\n"
        "  - json://b.example.org/x:\n      - tag: carol\n",
    )
    alice, carol = load_targets(path, {})
    assert alice.tags == frozenset({"alice", "analysts"})
    assert carol.tags == frozenset({"carol"})


def test_missing_variable_is_reported_at_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "urls:\n"
        "  - json://a.example.org/${PRESENT}\n"
        "  # ${IN_A_COMMENT} is not looked at\n"
        "  - mailto://bot:${MISSING_PASS}@example.org\n"
        "  - json://b.example.org/${ALSO_MISSING}\n",
    )
    found = issues_of(path, {"PRESENT": "x"})
    assert [(line, message) for line, _field, message in found] == [
        (4, "environment variable MISSING_PASS is not set"),
        (5, "environment variable ALSO_MISSING is not set"),
    ]
    assert found[0][1].startswith("urls[1]")


def test_missing_variable_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "urls:\n  - json://a.example.org/${NOPE}\n")
    with pytest.raises(ConfigError) as caught:
        load_targets(path, {})
    assert f"{path}:2" in str(caught.value)
    assert caught.value.issues[0].file == str(path)


def test_unknown_scheme_is_reported_at_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "urls:\n  - json://a.example.org/x\n\n  - nosuchservice://host/path\n",
    )
    [(line, field, message)] = issues_of(path, {})
    assert line == 4
    assert field == "urls"
    assert "unknown URL scheme 'nosuchservice://'" in message


def test_url_apprise_cannot_load_is_reported_without_secrets(tmp_path: Path) -> None:
    path = write(tmp_path, "urls:\n  - mailto://user:${PASS}@127.0.0.1?from=not-an-address\n")
    [(line, _field, message)] = issues_of(path, {"PASS": "hunter2hunter2"})
    assert line == 2
    assert "mailto://" in message
    assert "hunter2" not in message


def test_errors_that_quote_a_filled_in_value_mask_it(tmp_path: Path) -> None:
    """`${NAME}` is filled in on every scalar, keys included, before the file
    is checked: an error that quotes an unknown key never shows the secret
    (found by fuzzing)."""
    path = write(tmp_path, "ve${PASS}rsion: 1\nurls: []\n")
    found = issues_of(path, {"PASS": "hunter2hunter2"})
    assert found
    for _line, field, message in found:
        assert "hunter2" not in field + message
        assert "****" in field + message


def test_invalid_yaml_has_a_line(tmp_path: Path) -> None:
    path = write(tmp_path, "urls:\n  - json://a.example.org/x\n  bad: [\n")
    [(line, _field, message)] = issues_of(path, {})
    assert line is not None and line >= 3
    assert message.startswith("invalid YAML")


def test_include_and_unknown_keys_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "include: http://example.org/more.yml\nurls: []\n")
    [(line, field, _message)] = issues_of(path, {})
    assert (line, field) == (1, "include")


def test_format_per_service(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "urls:\n"
        "  - mailto://127.0.0.1:2525/a@example.org?from=w@example.org\n"
        "  - discord://1234/abcdef\n"
        "  - slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general\n"
        "  - tgram://123456789:abcdefg_hijklmnop/12315544/\n"
        "  - json://a.example.org/x\n"
        "  - json://a.example.org/y?format=markdown\n"
        "  - mqtt://127.0.0.1/topic\n"
        "  - matrix://bot:pass@127.0.0.1:8008/#alerts:localhost\n"
        "  - matrixs://bot:pass@matrix.example.org/#alerts?format=text\n",
    )
    formats = [t.format for t in load_targets(path, {})]
    assert formats == [
        *("html", "markdown", "markdown", "text", "text", "markdown", "text"),
        *("markdown", "text"),
    ]


def test_choose_format_accepts_target_or_url() -> None:
    target = Target("x", "discord://1234/abcdef", "discord://1...4/a...f", frozenset(), "markdown")
    assert choose_format(target) == "markdown"
    assert choose_format("mailto://127.0.0.1/a@example.org?from=w@example.org") == "html"
    assert choose_format("not a url") == "text"


def test_every_generic_webhook_scheme_of_apprise_is_checked() -> None:
    """The address guard covers a target by its scheme; a new alias of Apprise's
    generic webhooks must not slip past it."""
    from apprise.plugins.custom_form import NotifyForm
    from apprise.plugins.custom_json import NotifyJSON
    from apprise.plugins.custom_xml import NotifyXML

    schemes: set[str] = set()
    for plugin in (NotifyJSON, NotifyXML, NotifyForm):
        for attr in ("protocol", "secure_protocol"):
            value = getattr(plugin, attr)
            schemes.update([value] if isinstance(value, str) else value)
    assert schemes <= WEBHOOK_SCHEMES
    assert is_webhook("JSONS://hooks.example.org/x")
    assert not is_webhook("mailto://127.0.0.1:25/a@example.org?from=w@example.org")
    # Self-hosted chat and push servers name their host too (docs/security.md).
    assert is_webhook("matrix://bot:pass@127.0.0.1:8008/#alerts:localhost")
    assert is_webhook("gotify://127.0.0.1/token") and is_webhook("ntfy://127.0.0.1/topic")
    assert not is_webhook("ntfy://topic")  # ntfy.sh: checked when it connects
