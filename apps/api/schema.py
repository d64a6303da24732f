"""Schema post-processing: the error answers every operation can give, documented once.

The views document their own successes and domain errors (400, 404, 409); the
answers that come from the API's plumbing rather than from a view are added
here to every operation, so the schema lists every status a client can get.
"""

ERROR = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, fit to show a person."}
    },
    "required": ["detail"],
}

COMMON_ERRORS = {
    "401": "No credentials, or a token that is not valid. Send `Authorization: Token <key>`.",
    "403": "The user's role may not do this.",
    "406": "The Accept header asks for something other than JSON.",
    "429": "Too many requests from this token this minute; retry after `Retry-After` seconds.",
}
BODY_ERRORS = {
    "400": "Bad input: the body is not JSON, or a field is wrong (see `errors`).",
    "411": "A chunked body sent to a server that cannot read one; send a Content-Length.",
    "413": "The request body is over the size limit (5 MiB by default).",
    "415": "The body is not `application/json`.",
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds until the token may call again.",
        "schema": {"type": "integer", "minimum": 1},
        "required": True,
    }
}


def _json(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


def add_common_error_responses(result, generator, request, public):
    _engagements_take_a_list(result)
    _empty_query_parameters_mean_absent(result)
    result.setdefault("components", {}).setdefault("schemas", {}).setdefault("Error", ERROR_SCHEMA)
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            common = dict(COMMON_ERRORS)
            if method in ("post", "put", "patch"):
                common.update(BODY_ERRORS)
            else:
                common["400"] = "A query parameter is not valid (see `errors`)."
            if "{" in path:
                common["404"] = "No such lead, or not one the user may see."
            for status, description in common.items():
                responses.setdefault(status, _json(description))
            responses["429"].setdefault("headers", RETRY_AFTER)
    return result


def _engagements_take_a_list(result) -> None:
    """``POST /api/v1/engagements/`` takes one object or a list of them (1 to 1,000)."""
    from apps.api.serializers import MAX_ENGAGEMENTS_PER_REQUEST

    operation = result.get("paths", {}).get("/api/v1/engagements/", {}).get("post")
    if not operation:
        return
    for media in operation.get("requestBody", {}).get("content", {}).values():
        item = media["schema"]
        media["schema"] = {
            "oneOf": [
                item,
                {
                    "type": "array",
                    "items": item,
                    "minItems": 1,
                    "maxItems": MAX_ENGAGEMENTS_PER_REQUEST,
                },
            ]
        }


def _empty_query_parameters_mean_absent(result) -> None:
    """``?stage=&owner=rita`` filters by owner only, as the web UI's filter form sends it."""
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    parameter["allowEmptyValue"] = True
