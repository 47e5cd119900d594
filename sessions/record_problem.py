"""What is wrong with a record signoff wrote, in one phrase for the line that names it.

pydantic's first message alone ("Input should be 1") named neither the field nor the
likely cause: a record whose ``schema_version`` this signoff does not read was written by
another version of it (a newer one, or a rollback's home), which no repair of the file
fixes; running that version does.
"""

from __future__ import annotations

from pydantic import ValidationError

__all__ = ["record_problem"]


def record_problem(exc: ValidationError) -> str:
    """``schema_version 2 is not one this signoff reads (1): …``, or ``field: what``."""
    first = exc.errors()[0]
    loc = first["loc"]
    where = ".".join(str(p) for p in loc)
    if loc == ("schema_version",) and first["type"] == "literal_error":
        expected = (first.get("ctx") or {}).get("expected", "")
        return (
            f"schema_version {first['input']!r} is not one this signoff reads ({expected}): "
            "another version of signoff wrote it; run that version (or a newer one) on "
            "this home"
        )
    return f"{where}: {first['msg']}" if where else str(first["msg"])
