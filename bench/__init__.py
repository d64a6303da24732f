"""make bench: SPEC §9 measured (see __main__)."""
