"""Counts and pages that cost the same for a thousand leads as for a million.

Django's ``Paginator`` counts every matching row before it shows page one: on an
unfiltered list of 1M leads that is a scan of the whole table. Here a count reads at
most ``cap + 1`` rows; when it finds more than ``cap``, it says "about N" with
PostgreSQL's own estimate of the total (never fewer than it saw), or "N+" where no
estimate is to be had. Where the estimate is far above the cap, the rows are not
counted at all: a search's count would read its whole trigram index list to find
the cap's rows. A page fetches one row more than it shows, so "Next" is exact
whatever the count says, and a page that ends the list is its own count.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from math import ceil, floor, log10

from django.contrib.humanize.templatetags.humanize import intcomma, intword
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connections
from django.utils.translation import gettext

# Counted exactly up to here; above it the count is an estimate. Counting costs a read of
# each row up to the cap, so the cap is what a search for a common name pays to be counted.
COUNT_CAP = 500
# An estimate this many times the cap is taken as "about N" without counting to the cap
# (it would have been said anyway, unless PostgreSQL's guess is out by that much).
FAR_ABOVE_CAP = 20


@dataclass(frozen=True)
class ResultCount:
    """How many rows match: ``value`` exactly, or (``exact`` False) more than ``cap``, about ``value``."""

    value: int
    exact: bool = True
    cap: int = COUNT_CAP

    def __int__(self) -> int:
        return self.value

    def __str__(self) -> str:
        if self.exact:
            return intcomma(self.value)
        if self.value <= self.cap:
            return gettext("%(count)s+") % {"count": intcomma(self.cap)}
        return gettext("about %(count)s") % {"count": _rounded(self.value)}


def _rounded(value: int) -> str:
    """Two significant figures, in words from a million: 12,345 -> "12,000"; 1,234,567 -> "1.2 million"."""
    step = 10 ** max(0, floor(log10(value)) - 1)
    value = round(value / step) * step
    return intword(value) if value >= 1_000_000 else intcomma(value)


def count_results(queryset, *, cap: int = COUNT_CAP, estimate: bool = True) -> ResultCount:
    """Count ``queryset`` reading at most ``cap + 1`` rows; above that, estimate (PostgreSQL).

    With ``estimate``, PostgreSQL is asked for the planner's estimate first, and the rows
    are counted up to the cap only when it is not ``FAR_ABOVE_CAP`` times the cap; without
    it, a count over the cap reads "N+". Other databases (SQLite, the embedded default)
    count exactly.
    """
    connection = connections[queryset.db]
    if connection.vendor != "postgresql" or queryset.query.is_empty():
        return ResultCount(queryset.count(), exact=True, cap=cap)
    unordered = queryset.order_by()
    guess = planner_estimate(unordered) if estimate else 0
    if guess > FAR_ABOVE_CAP * cap:
        return ResultCount(guess, exact=False, cap=cap)
    seen = unordered[: cap + 1].count()
    if seen <= cap:
        return ResultCount(seen, exact=True, cap=cap)
    return ResultCount(max(guess, seen), exact=False, cap=cap)


def planner_estimate(queryset) -> int:
    """PostgreSQL's estimate of how many rows ``queryset`` returns (``EXPLAIN``, nothing is read)."""
    sql, params = queryset.values("pk").query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class CountedPage(Page):
    def __init__(self, object_list, number, paginator, *, has_next: bool):
        super().__init__(object_list, number, paginator)
        self._has_next = has_next

    def has_next(self) -> bool:
        return self._has_next

    def next_page_number(self) -> int:
        if not self._has_next:
            raise EmptyPage(gettext("That page contains no results"))
        return self.number + 1


class CountedPaginator(Paginator):
    """A ``Paginator`` over ``count_results``: capped or estimated counts, exact "Next".

    ``count`` is the exact count, or the estimate; ``result_count`` says which, and is
    what templates print. Give ``result_count`` when it is known already (a page that
    counts the same rows another way) to save the count.
    """

    def __init__(
        self,
        object_list,
        per_page,
        *,
        cap: int = COUNT_CAP,
        estimate: bool = True,
        result_count: ResultCount | None = None,
        **kwargs,
    ):
        super().__init__(object_list, per_page, **kwargs)
        self.cap, self.estimate = cap, estimate
        if result_count is not None:
            self.__dict__["result_count"] = result_count

    @cached_property
    def result_count(self) -> ResultCount:
        return count_results(self.object_list, cap=self.cap, estimate=self.estimate)

    @cached_property
    def count(self) -> int:
        return self.result_count.value

    @cached_property
    def num_pages(self) -> int:
        if self.count == 0 and not self.allow_empty_first_page:
            return 0
        return max(1, ceil(self.count / self.per_page))

    @property
    def pages_text(self) -> str:
        """How many pages, as honestly as the count: "24" or "about 24,000"."""
        pages = ResultCount(
            self.num_pages,
            exact=self.result_count.exact,
            cap=ceil(self.result_count.cap / self.per_page),
        )
        return str(pages)

    def page(self, number) -> CountedPage:
        # The rows first: a page that ends the list is its own count.
        try:
            wanted = int(number)
        except (TypeError, ValueError):
            wanted = 0
        if wanted >= 1:
            bottom = (wanted - 1) * self.per_page
            rows = self._rows(bottom)
            seen = bottom + len(rows)
            if len(rows) <= self.per_page and (rows or wanted == 1) and seen <= self.cap:
                self.__dict__.setdefault("result_count", ResultCount(seen, cap=self.cap))
        number = self.validate_number(number)  # no page number, or past the end: as Paginator
        return CountedPage(rows[: self.per_page], number, self, has_next=len(rows) > self.per_page)

    def _rows(self, bottom: int) -> list:
        """The rows from ``bottom`` on: a page's and one more.

        Past the first page, their keys are found first and the rows then read by key:
        the rows skipped on the way are read from an index alone where one covers the
        filter and order (the list's ``lead_created_idx``), not fetched whole.
        """
        top = bottom + self.per_page + 1
        if not bottom:
            return list(self.object_list[:top])
        return list(self.object_list.filter(pk__in=self.object_list.values("pk")[bottom:top]))

    def get_page(self, number) -> CountedPage:
        """Page ``number``: a page that is no number is the first, one past the end the last.

        Past the end of an estimated count, the rows there are what tells: an empty page
        has the rows counted exactly (only then) to find the last page.
        """
        try:
            page = self.page(number)
        except PageNotAnInteger:
            return self.page(1)
        except EmptyPage:
            page = self.page(self.num_pages)
        if page.number > 1 and not page.object_list and not self.result_count.exact:
            for name in ("result_count", "count", "num_pages"):
                self.__dict__.pop(name, None)
            self.__dict__["result_count"] = ResultCount(self.object_list.count(), cap=self.cap)
            page = self.page(self.num_pages)
        return page
