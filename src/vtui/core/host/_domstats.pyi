from collections.abc import Container
from typing import Any

def domain_stats(
    conn: Any, stats: int, flags: int, known: Container[str]
) -> list[tuple[str, str | None, dict[str, Any], Any]] | None: ...
def uuid_source() -> str: ...
