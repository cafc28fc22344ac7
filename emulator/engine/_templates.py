"""Judge and model templates: Jinja2, as the real service parses them (docs/reference/results.md#templates)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

_ENV = SandboxedEnvironment(autoescape=False, keep_trailing_newline=True)


class TemplateProblem(Exception):
    """A template that cannot be parsed; the message names it and the fix."""


@lru_cache(maxsize=512)
def referenced_columns(source: str, where: str) -> frozenset[str]:
    """Top-level names a template reads, including those only used in `{% if %}` / `{% for %}`."""
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(
            f"Template '{where}' is not valid Jinja2 (line {exc.lineno}: {exc.message}). "
            "Use {{column}} placeholders."
        ) from None
    return frozenset(meta.find_undeclared_variables(tree))


@lru_cache(maxsize=512)
def _compiled(source: str) -> Any:
    return _ENV.from_string(source)


def render(source: str, row: dict[str, Any]) -> str:
    """Render a template for one dataset row; runtime errors render as empty text."""
    try:
        return str(_compiled(source).render(**row))
    except Exception:  # a template that fails on one row yields an empty prompt, not a crash
        return ""
