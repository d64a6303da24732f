from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination


class LeadCursorPagination(CursorPagination):
    """Newest first, by id: each page is one indexed range query, with no COUNT over the table.

    A cursor stays valid while leads arrive, so paging through a busy list
    neither skips nor repeats a lead. As with the filters, an empty parameter
    counts as absent. A ``page_size`` that is not a whole number
    from 1 to ``max_page_size`` is refused (400) rather than quietly replaced.
    """

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        raw = request.query_params.getlist(self.page_size_query_param)
        if raw in ([], [""]):
            return self.page_size
        try:
            size = int(raw[-1])
        except ValueError:
            size = 0
        if len(raw) > 1 or not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        _("Give one whole number from 1 to %(max)s.") % {"max": self.max_page_size}
                    ]
                }
            )
        return size

    def decode_cursor(self, request):
        if len(request.query_params.getlist(self.cursor_query_param)) > 1:
            raise ValidationError({self.cursor_query_param: [_("Give one cursor.")]})
        if not request.query_params.get(self.cursor_query_param):
            return None  # an empty cursor is the first page, like an absent one
        return super().decode_cursor(request)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.max_page_size})
        return parameters
