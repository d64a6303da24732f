"""Words for people: joining names into a list in the reader's language."""

from collections.abc import Iterable

from django.utils.translation import pgettext


def names_join(names: Iterable) -> str:
    """'Decision maker, Influencer' in English, '決裁者、影響者' in Japanese."""
    return pgettext("list separator", ", ").join(str(name) for name in names)
