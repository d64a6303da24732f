from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, with absurdly nested documents answered 400 instead of 500.

    Python's ``json`` raises ``RecursionError`` (not ``ValueError``) on a few
    thousand nested brackets; nothing the API accepts nests that deep.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
