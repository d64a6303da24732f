"""Row ids read from a request (query strings, form fields): checked before ``int()``."""

#: The largest id a bigint column holds: a larger one is bad input, not a database error.
ID_MAX = 2**63 - 1


def is_row_id(text: str) -> bool:
    """``text`` is a row id: ASCII digits (not "²" or "١") of a value a bigint holds."""
    return text.isascii() and text.isdigit() and int(text) <= ID_MAX
