"""Japanese (and any other) translations for labels that live in the database.

Lead sources, reject reasons and disqualify reasons are admin-edited lists in
English. Their default labels are listed here so ``makemessages`` collects them;
the UI shows every label through ``translated_label``, so a default label reads
in the user's language and a label an admin typed reads as typed.
"""

from django.utils.translation import gettext, gettext_noop

DEFAULT_LABELS = (
    # Lead sources (criteria migration 0002).
    gettext_noop("Website"),
    gettext_noop("Webinar"),
    gettext_noop("Event"),
    gettext_noop("Content"),
    gettext_noop("Ads"),
    gettext_noop("Referral"),
    gettext_noop("Email"),
    gettext_noop("Partner"),
    gettext_noop("Import"),
    gettext_noop("Other"),
    # Reject reasons.
    gettext_noop("Not a fit"),
    gettext_noop("No budget"),
    gettext_noop("No authority"),
    gettext_noop("No need"),
    gettext_noop("Bad timing"),
    gettext_noop("Bad contact data"),
    gettext_noop("Duplicate"),
    gettext_noop("Competitor"),
    gettext_noop("Existing customer"),
    # Disqualify reasons.
    gettext_noop("Spam"),
    gettext_noop("Bad data"),
    # Raised untranslated by apps.accounts.mixins and apps.leads.selectors; translated when shown.
    gettext_noop("Your account has no Leadflow role yet; ask an admin."),
    gettext_noop("No such lead."),
)


def translated_label(label: str) -> str:
    """``label`` in the active language when it is a known default, else as stored."""
    return gettext(label) if label else label


def transition_reason_labels() -> dict[str, dict[str, str]]:
    """Per transition with listed reasons (reject, disqualify): each reason's code -> its label,
    in the active language."""
    from apps.leads.transitions import TRANSITIONS  # the transitions' forms use these labels

    return {
        entry.name: {r.code: translated_label(r.label) for r in entry.reason_model.objects.all()}
        for entry in TRANSITIONS.values()
        if entry.reason_model is not None
    }


def history_reason(row, reason_labels) -> str:
    """A history row's reason in the reader's language: a listed reason by its label, and a
    scoring promotion by its criteria version (the stored text is in the language of the
    request that promoted)."""
    if row.transition == "promote" and row.actor_id is None and row.criteria_id is not None:
        if row.criteria.version is not None:
            return gettext("MQL criteria v%(v)s met") % {"v": row.criteria.version}
    return reason_labels.get(row.transition, {}).get(row.reason, row.reason)
