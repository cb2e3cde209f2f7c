"""Delivering one message to one target through Apprise.

Each call builds an Apprise object holding only that target, so the outcome
read back belongs to exactly one service and retries can be tracked per
target by the caller.

Every send runs under `checked_connections`: each HTTP connection Apprise
opens for it (ntfy, gotify, apprise://, json/xml/form, any named service),
on whichever thread, goes to an address resolved once (within a deadline)
and checked, redirects included, unless private networks are allowed. A
target whose URL names a refused host is refused before anything is sent.
`wirewatch notify-test` and the worker's deliveries both come through here,
so they always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from worker.errors import WirewatchError
from worker.fetch.netguard import (
    NetworkPolicy,
    Resolver,
    checked_connections,
    is_webhook,
    proxy_refusal,
    webhook_refusal,
)
from worker.notify.escape import escape, single_line
from worker.notify.render import BLOCK_SEPARATOR, Message, fit_message
from worker.notify.targets import Target, apprise_asset, plugin_for

__all__ = ["SendResult", "send"]

_ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class SendResult:
    """The outcome of one delivery; `detail` names the target by its safe URL only."""

    ok: bool
    detail: str
    # Sending again cannot change the outcome: the target points at an
    # address that is refused (a config matter, not a passing failure).
    final: bool = False


def _int_attr(plugin: Any, name: str) -> int:
    value = getattr(plugin, name, 0)
    return value if isinstance(value, int) else 0


def _short_title(title: str, limit: int) -> str:
    if limit <= 0 or len(title) <= limit:
        return title
    return title[: max(0, limit - 1)].rstrip() + _ELLIPSIS


def _prepare(plugin: Any, message: Message) -> tuple[str, Message]:
    """The title and body as this service should get them.

    A service without a title field gets the title put on top of the body by
    Apprise, unescaped, in the body's format; so it is folded in here,
    escaped, instead. A body over the service's limit is shortened at a
    block boundary rather than dropped or cut mid-markup by the service.
    """
    title = single_line(message.title)
    body = message.body
    if _int_attr(plugin, "title_maxlen") <= 0 and title:
        if message.format == "markdown":
            body = f"**{escape(title, 'markdown')}**{BLOCK_SEPARATOR}{body}"
        elif message.format == "text":
            body = f"{escape(title, 'text')}{BLOCK_SEPARATOR}{body}"
        # An HTML body is a full document that already carries the title.
        title = ""
    title = _short_title(title, _int_attr(plugin, "title_maxlen"))
    fitted = fit_message(
        Message(title, body, message.format, message.link), _int_attr(plugin, "body_maxlen")
    )
    return title, fitted


def _describe(result: Any, target: Target) -> str:
    """What happened, from Apprise's structured result; never from its logs."""
    status = str(getattr(result.status, "name", result.status)).lower()
    services = list(result)
    if not services:
        return f"{status}: nothing was sent to {target.safe_url}"
    parts = [
        f"{service.name} {service.url}: {str(service.status.name).lower()}"
        f" after {len(service)} attempt{'s' if len(service) != 1 else ''}"
        f" in {service.elapsed:.1f}s"
        for service in services
    ]
    return "; ".join(parts)


def send(
    target: Target,
    message: Message,
    *,
    timeout: float = 30,
    allow_private_networks: bool = False,
    resolver: Resolver | None = None,
) -> SendResult:
    """Deliver `message` to `target`. A delivery failure is a result, never an exception.

    `allow_private_networks` lets a target that connects over HTTP reach
    private addresses; `resolver` replaces DNS for its connections (a seam
    for tests). The detail never holds a value that came from `${NAME}`.
    """
    result = _send(
        target,
        message,
        timeout=timeout,
        allow_private_networks=allow_private_networks,
        resolver=resolver,
    )
    return SendResult(result.ok, target.mask(result.detail), result.final)


def _send(
    target: Target,
    message: Message,
    *,
    timeout: float = 30,
    allow_private_networks: bool = False,
    resolver: Resolver | None = None,
) -> SendResult:
    plugin = plugin_for(target.url)
    if plugin is None:
        return SendResult(False, f"Apprise cannot load the URL of {target.safe_url}")
    if not allow_private_networks:
        why = proxy_refusal(target.url) if is_webhook(target.url) else None
        if why is None:
            why = webhook_refusal(target.url, allow_private_networks=False, resolver=resolver)
        if why is not None:
            return SendResult(False, f"refused {target.safe_url}: {why}", final=True)
    # Every target is checked where it connects: all of Apprise's HTTP
    # services go through urllib3, where the guard sits; email and MQTT do
    # not, so they are unaffected.
    policy = NetworkPolicy(allow_private_networks=allow_private_networks, resolver=resolver)
    title, fitted = _prepare(plugin, message)
    import apprise  # here, not at import: beat and the supervisor never send

    notifier = apprise.Apprise(asset=apprise_asset())
    notifier.add(plugin)
    try:
        with checked_connections(policy) as report:
            result = notifier.notify(
                body=fitted.body, title=title, body_format=fitted.format, timeout=timeout
            )
    except WirewatchError as exc:
        return SendResult(False, f"{exc} ({target.safe_url})")
    except Exception as exc:
        # The exception text may quote the URL; its type is enough to act on.
        return SendResult(False, f"{type(exc).__name__} while sending to {target.safe_url}")
    with result:
        ok, detail = bool(result), _describe(result, target)
    if not ok and report.errors:
        # Apprise reports only "connection error"; the guard knows which host and why.
        detail = f"{report.errors[-1]}; {detail}"
        return SendResult(ok, detail, final=report.errors[-1].startswith("blocked:"))
    return SendResult(ok, detail)
