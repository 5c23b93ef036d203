"""One mail transport for every message tonghop sends (alerts, the Sở's summary, reminders).

Transport choice (`transport()`), made once per `send_messages` call:

- **smtp** when the Airflow connection `smtp_default` is configured. It is read through Airflow's own
  lookup (`BaseHook.get_connection`), so a task sees what the deployment defines (the
  `AIRFLOW_CONN_SMTP_DEFAULT` environment variable, a secrets backend, the metadata database) and the
  CLI sees the environment variable. Server, port, TLS and sender come only from that connection
  (extras `disable_tls`, `disable_ssl`, `from_email`, `retry_limit`, `timeout`); nothing is hard-coded.
- **outbox** otherwise: each message is written as a complete MIME message (`.eml`, UTF-8, with its
  attachments) under `$TONGHOP_HOME/outbox/`, so nothing is lost and the demo shows what would be sent.

"Not configured" is detected without depending on an Airflow installation being set up: the
environment variable `AIRFLOW_CONN_SMTP_DEFAULT` set (non-empty) means configured; otherwise the
lookup is tried, and `AirflowNotFoundException` means not configured. Any other lookup failure
(outside Airflow: no metadata database, no secrets backend) is logged as a warning and also means
not configured: a CLI run on a laptop writes to the outbox rather than failing. `TONGHOP_MAIL_TRANSPORT`
(`smtp` or `outbox`) forces the choice.
The sender is the connection's `from_email`, else `TONGHOP_MAIL_FROM`, else the Sở's address
(province.yaml `email_so`), which is also the Reply-To of messages to the districts.

Both transports send the same message: multipart/mixed holding a multipart/alternative (plain text and
HTML) and the attachments (file names encoded per RFC 2231, so Vietnamese names survive). Over SMTP it
goes through `SmtpHook.send_email_smtp` (connection, STARTTLS/SSL, login, retries are the provider's);
only the MIME construction is ours (`_TonghopSmtpHook`), because the hook's own builder has no
plain-text part.
"""

from __future__ import annotations

import datetime as dt
import logging
import mimetypes
import os
import re
import unicodedata
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from etl.config import Settings

log = logging.getLogger(__name__)

SMTP_CONN_ID = "smtp_default"
TRANSPORT_ENV = "TONGHOP_MAIL_TRANSPORT"
DEFAULT_FROM = "tonghop@localhost"
# 7-bit output: the SMTP client sends the message as ASCII; bodies become quoted-printable or base64.
MAIL_POLICY = policy.SMTP.clone(cte_type="7bit")


@dataclass
class OutgoingMail:
    """One message to send: Vietnamese subject and bodies, attachments as files."""

    kind: str  # finding | summary | reminder_before | reminder_overdue (dq.alert_log.kind)
    to: list[str]
    subject: str
    text: str
    html: str
    attachments: list[Path] = field(default_factory=list)
    ma_don_vi: str | None = None
    nam_hoc: str | None = None
    ky_bao_cao: str | None = None
    submission_ids: list[int] = field(default_factory=list)
    dedup_key: str | None = None
    due_on: dt.date | None = None
    reply_to: str | None = None  # the Sở's address: districts answer a person, not the robot


@dataclass
class SentRecord:
    mail: OutgoingMail
    transport: str  # smtp | outbox
    recipients: list[str]
    outbox_path: Path | None
    sent_at: dt.datetime


def smtp_configured() -> bool:
    """Whether the Airflow connection `smtp_default` exists (see the module docstring)."""
    if os.environ.get(f"AIRFLOW_CONN_{SMTP_CONN_ID.upper()}"):
        return True
    try:
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException
    except ImportError:  # pragma: no cover - Airflow is a dependency, but the CLI must not need it
        return False
    try:
        BaseHook.get_connection(SMTP_CONN_ID)
    except AirflowNotFoundException:
        return False
    except Exception as exc:  # noqa: BLE001 - outside Airflow any lookup failure means "not configured"
        log.warning("SMTP connection %s could not be looked up (%s): writing to the outbox", SMTP_CONN_ID, exc)
        return False
    return True


def transport() -> str:
    forced = os.environ.get(TRANSPORT_ENV, "").strip().lower()
    if forced in ("smtp", "outbox"):
        return forced
    return "smtp" if smtp_configured() else "outbox"


# Line breaks (and what Python's e-mail package takes for one: \v, \f, \x1c-\x1e, \x85, U+2028...) and other
# control characters. A header holding one is refused (ValueError), which stopped every alert after it.
_HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def header_text(value: str) -> str:
    """A text made fit for a header: one line, control characters as spaces. A subject may carry what a file
    holds (its name, its school year), and a header must not be broken by it."""
    return re.sub(r" {2,}", " ", _HEADER_BREAKS.sub(" ", value)).strip()


def build_mime(mail: OutgoingMail, from_email: str) -> EmailMessage:
    """The complete message: text and HTML alternatives, then the attachments."""
    msg = EmailMessage(policy=MAIL_POLICY)
    msg["Subject"] = header_text(mail.subject)
    msg["From"] = from_email
    msg["To"] = ", ".join(mail.to)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=from_email.rpartition("@")[2] or None)
    if mail.reply_to:
        msg["Reply-To"] = mail.reply_to
    msg.set_content(mail.text, charset="utf-8")
    msg.add_alternative(mail.html, subtype="html", charset="utf-8")
    for path in mail.attachments:
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return msg


def _slug(text: str, limit: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = ascii_text.encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-").lower()[:limit] or "mail"


def default_sender(settings: Settings) -> str:
    """Sender when the SMTP connection names none (and for the outbox): TONGHOP_MAIL_FROM, else the Sở's
    address of the province configuration."""
    return (os.environ.get("TONGHOP_MAIL_FROM") or settings.province_config().meta.get("email_so")
            or DEFAULT_FROM)


def _write_outbox(mail: OutgoingMail, settings: Settings, from_email: str, sent_at: dt.datetime) -> Path:
    settings.outbox_dir.mkdir(parents=True, exist_ok=True)
    stem = "-".join(
        x for x in (sent_at.strftime("%Y%m%dT%H%M%S"), mail.kind, mail.ma_don_vi, _slug(mail.subject, 50)) if x
    )
    path = settings.outbox_dir / f"{stem}.eml"
    n = 1
    while path.exists():
        n += 1
        path = settings.outbox_dir / f"{stem}-{n}.eml"
    path.write_bytes(build_mime(mail, from_email).as_bytes())
    return path


def _smtp_hook_class():
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    class _TonghopSmtpHook(SmtpHook):
        """SmtpHook sending our MIME message (text + HTML alternatives) instead of its HTML-only one."""

        pending: OutgoingMail | None = None

        def _build_mime_message(
            self,
            mail_from,
            to,
            subject,
            html_content,
            files=None,
            cc=None,
            bcc=None,
            mime_subtype="mixed",
            mime_charset="utf-8",
            custom_headers=None,
        ):
            if self.pending is None:  # pragma: no cover - only used through send_messages
                return super()._build_mime_message(
                    mail_from, to, subject, html_content, files, cc, bcc, mime_subtype, mime_charset, custom_headers
                )
            return build_mime(self.pending, mail_from), self._get_email_address_list(to)

    return _TonghopSmtpHook


def send_messages(messages: list[OutgoingMail], settings: Settings) -> list[SentRecord]:
    """Send every message through SMTP when `smtp_default` is configured, else write it to the outbox."""
    if not messages:
        return []
    how = transport()
    records: list[SentRecord] = []
    if how == "outbox":
        from_email = default_sender(settings)
        for mail in messages:
            sent_at = dt.datetime.now(dt.UTC)
            path = _write_outbox(mail, settings, from_email, sent_at)
            log.info("outbox: %s -> %s (%s)", mail.subject, ", ".join(mail.to), path)
            records.append(SentRecord(mail, "outbox", list(mail.to), path, sent_at))
        return records
    hook_class = _smtp_hook_class()
    with hook_class(smtp_conn_id=SMTP_CONN_ID) as hook:
        for mail in messages:
            hook.pending = mail
            hook.send_email_smtp(
                to=mail.to,
                subject=mail.subject,
                html_content=mail.html,
                files=[str(p) for p in mail.attachments],
                from_email=hook.from_email or default_sender(settings),
            )
            log.info("smtp: %s -> %s", mail.subject, ", ".join(mail.to))
            records.append(SentRecord(mail, "smtp", list(mail.to), None, dt.datetime.now(dt.UTC)))
    return records
