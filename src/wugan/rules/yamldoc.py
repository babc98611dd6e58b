"""A YAML reader that remembers where each value sits, so a ``RuleError`` can name the line.

Analysts fix rules from the message alone, so every error names the file, the
line and the offending name: ``rules/retirement.yaml:42: unknown column ...``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from wugan.errors import RuleError

__all__ = ["YamlDoc", "load_yaml"]


@dataclass
class YamlDoc:
    """Parsed YAML plus the line span of every node, keyed by its path of keys/indices."""

    path: Path
    data: Any
    text_lines: list[str]
    spans: dict[tuple, tuple[int, int, bool]] = field(default_factory=dict)

    def line(self, keypath: tuple, name: str | None = None) -> int | None:
        """Line of a node; with ``name``, the line inside a multi-line value where it first occurs."""
        span = self.spans.get(keypath)
        if span is None:
            # fall back to the nearest ancestor that has a position
            for i in range(len(keypath) - 1, -1, -1):
                span = self.spans.get(keypath[:i])
                if span:
                    break
            if span is None:
                return None
        start, end, _ = span
        if name:
            pat = re.compile(r"(?<![A-Za-z0-9_])" + re.escape(name) + r"(?![A-Za-z0-9_])")
            for i in range(start, min(end, len(self.text_lines)) + 1):
                if pat.search(self.text_lines[i - 1]):
                    return i
        return start

    def error(self, keypath: tuple, message: str, name: str | None = None) -> RuleError:
        return RuleError(self.path, self.line(keypath, name), message)


def load_yaml(path: Path) -> YamlDoc:
    """Read a YAML file (safe loader) remembering where each value sits."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise RuleError(path, None, f"cannot read file: {e.strerror}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise RuleError(path, mark.line + 1 if mark else None, f"invalid YAML: {getattr(e, 'problem', e)}") from None
    doc = YamlDoc(path=path, data=None, text_lines=text.splitlines())
    if node is None:
        return doc
    constructor = yaml.SafeLoader("")

    def conv(n: yaml.Node, kp: tuple) -> Any:
        start = n.start_mark.line + 1
        block = isinstance(n, yaml.ScalarNode) and n.style in ("|", ">")
        end = n.end_mark.line + (0 if n.end_mark.column == 0 else 1)
        doc.spans[kp] = (start + (1 if block else 0), max(end, start), block)
        if isinstance(n, yaml.MappingNode):
            out: dict = {}
            for k, v in n.value:
                try:
                    key = constructor.construct_object(k, deep=True)
                except yaml.YAMLError as e:
                    raise RuleError(path, k.start_mark.line + 1, f"invalid key: {e}") from None
                if not isinstance(key, str | int | float | bool) and not hasattr(key, "isoformat"):
                    raise RuleError(path, k.start_mark.line + 1, f"invalid key {key!r}")
                if key in out:
                    raise RuleError(path, k.start_mark.line + 1, f"duplicate key {key!r}")
                out[key] = conv(v, (*kp, key))
            return out
        if isinstance(n, yaml.SequenceNode):
            return [conv(v, (*kp, i)) for i, v in enumerate(n.value)]
        try:
            return constructor.construct_object(n, deep=True)
        except yaml.YAMLError as e:
            raise RuleError(path, start, f"invalid value: {e}") from None

    doc.data = conv(node, ())
    return doc
