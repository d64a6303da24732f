from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A Leadflow user; the role comes from group membership (see ``roles``)."""

    language = models.CharField(
        _("language"),
        max_length=8,
        blank=True,
        help_text=_("Interface language; blank follows the browser."),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        help_text=_(
            "Dates and deadlines are shown in it; blank follows the browser, else the site's."
        ),
    )
    accepts_new_leads = models.BooleanField(
        _("accepts new leads"),
        default=True,
        help_text=_("Sales reps only: untick while away so round-robin assignment skips them."),
    )
    last_assigned_at = models.DateTimeField(
        _("last assigned at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When round-robin last gave this rep a lead; least recent goes first."),
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        indexes = [models.Index(fields=["last_assigned_at", "id"], name="user_rr_order_idx")]

    def __str__(self):
        return self.get_full_name() or self.username
