"""Events as Slack messages: one readable sentence with a link, in the site's language."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from apps.leads.transitions import TRANSITIONS
from apps.webhooks import events as vocabulary

_BY_EVENT_TYPE = {entry.event_type: entry for entry in TRANSITIONS.values()}


def _escape(text) -> str:
    """Slack's mrkdwn treats &, < and > as markup."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: str, label) -> str:
    return f"<{url}|{_escape(label)}>"


def _site(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _when(value: str | None) -> str:
    moment = parse_datetime(value) if value else None
    if moment is None:
        return ""
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _lead_words(lead: dict) -> tuple[str, str]:
    """(the lead as a link, " (Company)" or "")."""
    name = " ".join(p for p in (lead.get("first_name"), lead.get("last_name")) if p)
    link = _link(_site(reverse("leads:detail", args=[lead["id"]])), name or lead["email"])
    company = f" ({_escape(lead['company'])})" if lead.get("company") else ""
    return link, company


def slack_text(event) -> str:
    """The message for ``event`` (an ``Event``), in the active language."""
    data = event.body
    if event.type == vocabulary.TEST:
        return _("Test event from Leadflow: this channel is connected.")
    if event.type == vocabulary.REPORT_WEEKLY:
        report = data["report"]
        rate = report.get("mql_to_sql_rate")
        lines = [
            _("*Weekly report %(week)s*: %(mqls)s MQLs, %(sqls)s SQLs, MQL→SQL %(rate)s.")
            % {
                "week": report["week"],
                "mqls": report["mqls"],
                "sqls": report["sqls"],
                "rate": "—" if rate is None else f"{rate * 100:.1f}%",
            }
        ]
        lines += [f"• {_escape(alert['message'])}" for alert in report.get("alerts", [])]
        lines.append(_link(data["url"], _("Open the reports")))
        return "\n".join(lines)
    lead, company = _lead_words(data["lead"])
    owner = data["lead"].get("owner") or _("nobody")
    if event.type == vocabulary.LEAD_CREATED:
        return _("New lead: %(lead)s%(company)s, from %(source)s.") % {
            "lead": lead,
            "company": company,
            "source": _escape(data["lead"].get("source") or "—"),
        }
    if event.type in (vocabulary.SLA_REMINDER, vocabulary.SLA_BREACHED):
        sla = data["sla"]
        words = {"lead": lead, "company": company, "when": _when(sla["deadline"]), "owner": owner}
        accepting = sla["clock"] == "accept"
        if event.type == vocabulary.SLA_REMINDER:
            if accepting:
                return (
                    _(
                        "SLA reminder: %(lead)s%(company)s must be accepted or rejected by %(when)s (owner: %(owner)s)."
                    )
                    % words
                )
            return (
                _(
                    "SLA reminder: %(lead)s%(company)s must be qualified or rejected by %(when)s (owner: %(owner)s)."
                )
                % words
            )
        if accepting:
            return (
                _(
                    ":warning: SLA missed: %(lead)s%(company)s was not accepted by %(when)s (owner: %(owner)s)."
                )
                % words
            )
        return (
            _(
                ":warning: SLA missed: %(lead)s%(company)s was not processed by %(when)s (owner: %(owner)s)."
            )
            % words
        )
    if event.type == "lead.promoted":
        return _("*New MQL*: %(lead)s%(company)s, score %(score)s, owner %(owner)s.") % {
            "lead": lead,
            "company": company,
            "score": data["lead"].get("score"),
            "owner": owner,
        }
    entry = _BY_EVENT_TYPE.get(event.type)
    transition = data.get("transition") or {}
    words = {
        "lead": lead,
        "company": company,
        "event": entry.event if entry else event.type,
        "actor": transition.get("actor") or _("the system"),
    }
    text = _("%(lead)s%(company)s: %(event)s by %(actor)s.") % words
    if transition.get("reason"):
        text += " " + _("Reason: %(reason)s.") % {"reason": _escape(_reason(entry, transition))}
    return text


def _reason(entry, transition: dict) -> str:
    """A reject or disqualify reason by its admin-edited label; other reasons are free text."""
    code = transition["reason"]
    model = entry.reason_model if entry else None
    if model is None:
        return code
    chosen = model.objects.filter(code=code).first()
    return chosen.label if chosen else code


def slack_message(event) -> dict:
    """The JSON body for a Slack incoming webhook, in the site's language (``LANGUAGE_CODE``)."""
    with translation.override(settings.LANGUAGE_CODE):
        text = slack_text(event)
    return {
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }
