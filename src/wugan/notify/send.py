"""Drain the outbox: each pending notice is handed to a sender and marked sent, once.

A notice is marked sent in its own transaction right after the sender
accepted it. Should the process die in between, the rerun hands it over
again, so senders are idempotent by the notice id: the file sender writes
``<id>.txt``, the webhook sends an ``Idempotency-Key`` header.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import httpx
from rich.console import Console
from sqlalchemy import select

from wugan.cases.db import session_scope
from wugan.cases.models import Notice
from wugan.errors import InputError
from wugan.failpoints import failpoint

__all__ = ["Sender", "FileSender", "ConsoleSender", "WebhookSender", "sender_for", "drain", "DrainReport"]

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


class Sender(Protocol):
    def send(self, notice: Notice) -> None: ...


@dataclass
class FileSender:
    """Writes each notice to ``<folder>/<created_on>/<id>.txt``: what a print shop or SMS batch picks up."""

    folder: Path

    def send(self, notice: Notice) -> None:
        path = self.folder / notice.created_on.isoformat() / f"{notice.id}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        header = f"channel: {notice.channel}\nto: {notice.address or '(letter to the household address)'}\n\n"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(header + notice.body + "\n", encoding="utf-8")
        tmp.replace(path)


@dataclass
class ConsoleSender:
    console: Console

    def send(self, notice: Notice) -> None:
        self.console.print(f"[bold]{notice.channel}[/bold] {notice.template}\n{notice.body}\n")


@dataclass
class WebhookSender:
    """POSTs each notice as JSON; notices carry names and phones, so only over TLS outside development."""

    url: str
    timeout: float = 10.0
    plain_http: bool = False

    def __post_init__(self) -> None:
        scheme = urlsplit(self.url).scheme.lower()
        if scheme != "https" and not (scheme == "http" and self.plain_http):
            raise InputError(f"a webhook needs an https:// URL, not {scheme or 'no scheme'}:// "
                             "(plain http:// is allowed only when WUGAN_ENV=development)")

    def send(self, notice: Notice) -> None:
        response = httpx.post(
            self.url,
            json={"id": notice.id, "channel": notice.channel, "address": notice.address,
                  "template": notice.template, "body": notice.body},
            headers={"Idempotency-Key": notice.id},
            timeout=self.timeout,
        )
        response.raise_for_status()


def sender_for(spec: str | None, *, home: Path, env: str) -> Sender:
    """``file`` (default: ``<home>/outbox``), ``console``, or an https URL for a webhook (http in development)."""
    if spec in (None, "", "file"):
        return FileSender(home / "outbox")
    if spec == "console":
        return ConsoleSender(Console())
    if urlsplit(spec).scheme.lower() in ("http", "https"):
        return WebhookSender(spec, plain_http=env == "development")
    raise InputError(f"unknown notice sender {spec!r}: use file, console or an https:// URL")


@dataclass
class DrainReport:
    rendered: int = 0
    sent: int = 0
    failed: int = 0
    retried: int = 0


def _try(send: Callable[[], None], tries: int, backoff: float) -> Exception | None:
    for attempt in range(tries):
        try:
            send()
            return None
        except Exception as error:  # noqa: BLE001 - a sender's failure is recorded on the notice
            if attempt + 1 == tries:
                return error
            time.sleep(backoff * 2**attempt)
    return None


def drain(url: str, sender: Sender, *, at: dt.datetime, tries: int = 3, backoff: float = 0.2,
          limit: int | None = None) -> DrainReport:
    """Send the notices pending at ``at``; each is retried ``tries`` times now and again on later drains.

    A notice created after ``at`` waits for its own day's drain, so a rerun of an earlier day never sends
    a later day's notices stamped with its earlier time.
    """
    report = DrainReport()
    with session_scope(url) as session:
        pending = session.scalars(
            select(Notice.id).where(Notice.status == "pending", Notice.created_on <= at.date())
            .order_by(Notice.created_on, Notice.id).limit(limit)
        ).all()
    for notice_id in pending:
        with session_scope(url) as session:
            notice = session.get_one(Notice, notice_id)
            if notice.status != "pending":
                continue
            error = _try(lambda n=notice: sender.send(n), tries, backoff)
            notice.attempts += 1
            if error is None:
                notice.status, notice.sent_at, notice.last_error = "sent", at, None
                report.sent += 1
            else:
                notice.last_error = f"{type(error).__name__}: {error}"[:500]
                if notice.attempts >= MAX_ATTEMPTS:
                    notice.status = "failed"
                    report.failed += 1
                else:
                    report.retried += 1
                log.warning("notice %s not sent (attempt %d): %s", notice.id, notice.attempts, type(error).__name__)
        failpoint("notify.sent")
    return report
