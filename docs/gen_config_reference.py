"""Write docs/configuration.md from the config models, so the reference cannot drift.

Every key, its type, range and default come from worker/config/models.py,
and its description from the docstring under the field. A field whose type
this script does not know makes it fail rather than guess.

    python docs/gen_config_reference.py           # rewrite docs/configuration.md
    python docs/gen_config_reference.py --check   # exit 1 if it is out of date (the tests run this)
"""

from __future__ import annotations

import collections.abc
import sys
import types
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from worker.config import format_duration  # noqa: E402
from worker.config.models import (  # noqa: E402
    BasicAuth,
    Between,
    FetchSettings,
    NearDuplicateSettings,
    Rule,
    Selectors,
    Settings,
    Source,
    SourceDefaults,
)

PAGE = ROOT / "docs" / "configuration.md"

SETTINGS_SECTIONS: dict[str, type[BaseModel]] = {
    "fetch": FetchSettings,
    "near_duplicate": NearDuplicateSettings,
}

# Where a field whose value is a nested model links to: its section's heading.
ANCHORS: dict[type[BaseModel], str] = {Selectors: "select", BasicAuth: "auth"}

# Defaults that are not a fixed value: filled in at load time, or versioned.
# Keyed by (model, field); a key that names no field is an error below.
SHOWN_DEFAULTS: dict[tuple[type[BaseModel], str], str] = {
    (Source, "name"): "the feed's title",
    (Settings, "user_agent"): "`wirewatch/VERSION`",
}

INTRO = """\
# Configuration reference

<!-- Generated from worker/config/models.py by docs/gen_config_reference.py.
     Do not edit: change the models' docstrings and run the script. -->

wirewatch reads four files from its config folder: `./config`, or the folder
that `WIREWATCH_CONFIG` names (`wirewatch init` writes a commented starter
set). `wirewatch check` validates them all and prints every error with its
file, line and field:

```
config/rules.yaml:5: rules[1].query: unbalanced ')' at column 15
    Iran OR Tehran)
                  ^
```

While wirewatch runs, an edit to any file takes effect within one tick
(10 s), without a restart. An edit with an error is rejected as a whole: the
last good config stays in force, and the error is logged and shown by
`wirewatch status`. Unknown keys are errors, so a misspelt option is never
silently left at its default.

**Durations** are written `30s`, `5m`, `2h`, `1d`, `1w` or combined, largest
unit first (`1h30m`); a bare number is seconds. **Times** are 24-hour
`"HH:MM"`, in quotes (YAML reads an unquoted `18:00` as the number 1080). A
key whose type is a list also takes a single value (`tags: russia` is
`tags: [russia]`).
"""

APPRISE = """\
## apprise.yml

Where alerts go: [Apprise's own YAML format](https://github.com/caronc/apprise/wiki/config_yaml).
Each URL is a target; `tag` names that rules use in `notify:`. Apprise
knows 100+ services, each with a URL form listed in
[its wiki](https://github.com/caronc/apprise/wiki).

```yaml
version: 1
urls:
  # Email: HTML with a plain-text part.
  - mailtos://${SMTP_USER}:${SMTP_PASSWORD}@smtp.example.org?to=desk@example.org:
      tag: analysts
  # Telegram: Markdown.
  - tgram://${TELEGRAM_BOT_TOKEN}/${TELEGRAM_CHAT_ID}:
      tag: newsroom
  # Source health alerts only.
  - mailtos://${SMTP_USER}:${SMTP_PASSWORD}@smtp.example.org?to=ops@example.org:
      tag: admin
```

- `${NAME}` is replaced from the environment before Apprise reads the file,
  so secrets stay out of it. A `${NAME}` that is not set is a config error.
  Every value taken from the environment is a secret: it is shown as `****`
  in logs, command output, `status` and alert history.
- Characters such as `@ : / #` in a secret must be URL-encoded (`%40 %3A %2F %23`).
- A rule without `notify:` goes to every target except those tagged only
  `admin`. Source health alerts (a source that keeps failing, goes stale, or
  whose selectors find nothing) go to the tag `admin` only.
- A file with no `urls:` is valid: wirewatch runs and records alerts
  (`wirewatch alerts` lists them) but sends nothing; `wirewatch check` warns.
- `wirewatch notify-test [--tag T]` sends a test alert to each target and
  says which failed.
- Targets that connect over HTTP are refused private and loopback addresses
  unless `allow_private_networks: true`.

### Alerts by email

Use `mailtos://user:password@smtp.host?to=you@example.org` (TLS) or
`mailto://` (no TLS, for a local relay). Email alerts are HTML with a
plain-text part. The subject is `<rule id>: <article title>`; the body holds
the source's name, the published time in your `timezone`, the matched terms,
up to three snippets with the matched words highlighted, and the link.

### Alerts in chat

Telegram (`tgram://bottoken/chat_id`), Slack
(`slack://tokenA/tokenB/tokenC/#channel`), Matrix
(`matrixs://user:password@matrix.example.org/#room`) and any other Apprise
service. Services that render Markdown get Markdown, the others plain text.
Article text is always escaped: a title cannot inject markup, links or
`@everyone`.
"""


def main(argv: list[str]) -> int:
    page = render()
    if argv[1:] == ["--check"]:
        if PAGE.read_text() != page:
            print(f"{PAGE} is out of date: run python docs/gen_config_reference.py")
            return 1
        return 0
    PAGE.write_text(page)
    return 0


def render() -> str:
    for model, name in SHOWN_DEFAULTS:
        if name not in model.model_fields:
            raise KeyError(f"SHOWN_DEFAULTS names {model.__name__}.{name}, which is gone")
    parts = [
        INTRO,
        "## settings.yaml\n\n"
        "Everything is optional, and the file itself may be absent.\n\n"
        + _table(Settings, nested=SETTINGS_SECTIONS),
        "## sources.yaml\n\n"
        "```yaml\ndefaults: {interval: 5m, full_text: true}\nsources:\n"
        "  - id: moscow-times\n    url: https://www.themoscowtimes.com/rss/news\n"
        "    tags: [russia]\n"
        "  - id: ministry-news\n    url: https://example.org/press\n    type: html\n"
        '    select: {item: "article.news", link: "a", title: "h2"}\n```\n\n'
        "### defaults\n\nWhat every source gets unless it sets the key itself.\n\n"
        + _table(SourceDefaults)
        + "\n### sources\n\nA list; each entry is one source. Only `id` and `url` are required.\n\n"
        + _table(Source, inherited=SourceDefaults)
        + "\n### select\n\nFor `type: html`: CSS selectors. `link`, `title` and `summary`"
        " are looked up inside each item. Try them with"
        " `wirewatch poll SOURCE_ID --dry-run`.\n\n"
        + _table(Selectors)
        + "\n### auth\n\nHTTP Basic credentials of a source, sent to its own host only;"
        " write them as `${NAME}` (shown as `****` everywhere).\n\n" + _table(BasicAuth),
        "## rules.yaml\n\n"
        "```yaml\nrules:\n  - id: s300-iran\n"
        '    query: \'("S-300" OR "S-400") AND (Iran OR Tehran)\'\n'
        "    notify: [analysts]\n"
        "  - id: sanctions\n"
        "    query: 'sanction~ NEAR/8 (Iran OR Russia) NOT \"sanctions relief\"'\n"
        '    mode: digest\n    digest: ["08:00", "18:00"]\n```\n\n'
        "### rules\n\nA list; each entry is one rule. Only `id` and `query` are required.\n\n"
        + _table(Rule),
        APPRISE,
    ]
    return "\n".join(parts)


def _table(
    model: type[BaseModel],
    *,
    nested: dict[str, type[BaseModel]] | None = None,
    inherited: type[BaseModel] | None = None,
) -> str:
    rows = ["| key | type | default | |", "| --- | --- | --- | --- |"]
    for name, info in model.model_fields.items():
        sub = (nested or {}).get(name)
        if sub is not None:
            rows.append(f"| `{name}` | section | | {_description(model, name, info)} |")
            for sub_name, sub_info in sub.model_fields.items():
                rows.append(_row(sub, f"{name}.{sub_name}", sub_name, sub_info))
            continue
        default = None
        if inherited is not None and name in inherited.model_fields:
            value = _value(inherited.model_fields[name].default)
            default = f"from `defaults:` ({value})"
        rows.append(_row(model, name, name, info, default))
    return "\n".join(rows) + "\n"


def _row(
    model: type[BaseModel], key: str, name: str, info: FieldInfo, default: str | None = None
) -> str:
    if default is None:
        default = _default(model, name, info)
    return f"| `{key}` | {_type(info)} | {default} | {_description(model, name, info)} |"


def _description(model: type[BaseModel], name: str, info: FieldInfo) -> str:
    if not info.description:
        raise ValueError(f"{model.__name__}.{name} has no docstring to document it by")
    return " ".join(info.description.split()).replace("|", "\\|")


def _default(model: type[BaseModel], name: str, info: FieldInfo) -> str:
    if (model, name) in SHOWN_DEFAULTS:
        return SHOWN_DEFAULTS[model, name]
    if info.is_required():
        return "required"
    return _value(info.default)


def _value(value: Any) -> str:
    if value is None or value == () or value == {}:
        return "none"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, timedelta):
        return f"`{format_duration(value)}`"
    if isinstance(value, tuple):
        return "`[" + ", ".join(_scalar(item) for item in value) + "]`"
    if isinstance(value, int | float | str):
        return f"`{_scalar(value)}`"
    raise TypeError(f"no way to show the default {value!r}")


def _scalar(value: Any) -> str:
    if isinstance(value, time):
        return f'"{value:%H:%M}"'
    if isinstance(value, int) and not isinstance(value, bool) and value >= 10_000:
        return f"{value:_}"
    return str(value)


def _type(info: FieldInfo) -> str:
    return _describe(info.annotation, list(info.metadata))


def _describe(annotation: Any, metadata: list[Any]) -> str:
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        return _describe(base, metadata + _flatten(extra))
    if origin in (Union, types.UnionType):
        (inner,) = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _describe(inner, metadata)
    if origin is Literal:
        names = [f"`{arg}`" for arg in get_args(annotation)]
        return ", ".join(names[:-1]) + " or " + names[-1]
    if origin is tuple:
        item, _ = get_args(annotation)
        return f"list of {_describe(item, [])}"
    if origin in (dict, collections.abc.Mapping):
        key, value = get_args(annotation)
        return f"mapping of {_describe(key, [])} to {_describe(value, [])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        anchor = ANCHORS[annotation]
        return f"[{anchor}](#{anchor})"
    if annotation is bool:
        return "`true` or `false`"
    if annotation is str:
        return "text"
    if annotation is time:
        return '"HH:MM"'
    if annotation is timedelta:
        (bounds,) = [item for item in metadata if isinstance(item, Between)]
        return f"duration, {format_duration(bounds.low)} .. {format_duration(bounds.high)}"
    if annotation in (int, float):
        return ("integer" if annotation is int else "number") + _range(metadata)
    raise TypeError(f"no way to describe the type {annotation!r}")


def _flatten(metadata: list[Any]) -> list[Any]:
    flat: list[Any] = []
    for item in metadata:
        flat.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    return flat


def _range(metadata: list[Any]) -> str:
    parts = []
    for item in metadata:
        if isinstance(item, annotated_types.Ge):
            parts.append(f"at least {_scalar(item.ge)}")
        elif isinstance(item, annotated_types.Gt):
            parts.append(f"more than {_scalar(item.gt)}")
        elif isinstance(item, annotated_types.Le):
            parts.append(f"at most {_scalar(item.le)}")
    if len(parts) == 2 and parts[0].startswith("at least") and parts[1].startswith("at most"):
        return f", {parts[0].removeprefix('at least ')} .. {parts[1].removeprefix('at most ')}"
    return "".join(f", {part}" for part in parts)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
