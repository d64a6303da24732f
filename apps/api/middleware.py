"""413 for API request bodies over ``LEADFLOW_API_MAX_BODY_BYTES`` (SPEC §7 "Limits")."""

import io

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import JsonResponse
from django.utils.translation import gettext as _

API_PREFIX = "/api/"


def _size(size: int) -> str:
    if size >= 1048576:
        return f"{size / 1048576:.1f} MiB"
    return f"{size / 1024:.1f} KiB" if size >= 1024 else f"{size} bytes"


def body_too_large(limit: int, size: int | None = None) -> JsonResponse:
    if size is None:
        detail = _("The request body is over %(limit)s, the most the API accepts.") % {
            "limit": _size(limit)
        }
    else:
        detail = _("The request body is %(size)s; the API accepts at most %(limit)s.") % {
            "size": _size(size),
            "limit": _size(limit),
        }
    return JsonResponse({"detail": detail}, status=413)


class RequestBodyLimitMiddleware:
    """Refuse oversize API bodies before any of them is read.

    A declared ``Content-Length`` over the limit is refused at once. A chunked
    body (no length; the server marks the input as terminated) is read up to one
    byte past the limit: over it, 413; within it, the body is handed on as if it
    had been sent with its length, since Django only reads declared lengths.
    A server that does not decode chunked bodies (runserver) gets 411.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            refusal = self._refuse_oversize(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def _refuse_oversize(self, request):
        limit = settings.LEADFLOW_API_MAX_BODY_BYTES
        declared = request.META.get("CONTENT_LENGTH")
        if declared:
            try:
                size = int(declared)
            except ValueError:
                return JsonResponse(
                    {"detail": _("The Content-Length header is not a number.")}, status=400
                )
            return body_too_large(limit, size) if size > limit else None
        if "chunked" not in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return None
        if not request.META.get("wsgi.input_terminated"):
            # This server hands on the raw chunks (Django's runserver does): the body cannot be read.
            return JsonResponse(
                {
                    "detail": _(
                        "Send the body with a Content-Length; this server cannot read a chunked body."
                    )
                },
                status=411,
            )
        body = request.META["wsgi.input"].read(limit + 1)
        if len(body) > limit:
            return body_too_large(limit)
        request._stream = LimitedStream(io.BytesIO(body), len(body))
        request.META["CONTENT_LENGTH"] = str(len(body))
        return None
