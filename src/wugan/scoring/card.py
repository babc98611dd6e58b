"""The model card: ``templates/card.md.j2`` rendered from a model's metrics, like the notices."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from wugan.scoring.examples import MAX_WEIGHT, VALIDATION_SHARE

__all__ = ["render_card", "write_card"]

# The card is Markdown written to the model's directory, never served as HTML: escaping would print
# "&amp;"; what it holds is numbers, dates, county codes and the project's own names.
_ENV = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")), undefined=StrictUndefined,
                   keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                   autoescape=False)  # nosec B701


def _num(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


_ENV.filters["num"] = _num


def render_card(metrics: dict) -> str:
    return _ENV.get_template("card.md.j2").render(m=metrics, max_weight=MAX_WEIGHT,
                                                  validation_share=VALIDATION_SHARE)


def write_card(path: Path, metrics: dict) -> None:
    path.write_text(render_card(metrics), encoding="utf-8")
