"""Model fields the apps declare the same way."""

from django.db import models


def optional_link(to, verbose_name=None, **options) -> models.ForeignKey:
    """A reference a row may lack, kept for the record (who did it, which criteria, which lead).

    The row it points to cannot be deleted while referenced (history is not rewritten), and
    it lists no reverse accessor: nothing reads these links from the other side.
    """
    return models.ForeignKey(
        to,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=verbose_name,
        **options,
    )
