"""Grok patterns (as Glue's grok classifiers use them) compiled to Python regular expressions.

``%{PATTERN}`` references a named pattern, ``%{PATTERN:field}`` captures a column and
``%{PATTERN:field:type}`` also types it (``int``, ``long``, ``float``, ``double``,
``boolean``, ``string``). Custom patterns are ``NAME regex`` lines, as in Glue's
``CustomPatterns``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BUILTIN_PATTERNS = {
    "USERNAME": r"[a-zA-Z0-9._-]+",
    "USER": r"%{USERNAME}",
    "INT": r"(?:[+-]?(?:[0-9]+))",
    "BASE10NUM": r"(?:[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+))",
    "NUMBER": r"(?:%{BASE10NUM})",
    "BASE16NUM": r"(?:0[xX]?[0-9a-fA-F]+)",
    "POSINT": r"\b(?:[1-9][0-9]*)\b",
    "NONNEGINT": r"\b(?:[0-9]+)\b",
    "WORD": r"\b\w+\b",
    "NOTSPACE": r"\S+",
    "SPACE": r"\s*",
    "DATA": r".*?",
    "GREEDYDATA": r".*",
    "QUOTEDSTRING": r"(?:\"(?:\\.|[^\\\"])*\"|'(?:\\.|[^\\'])*')",
    "UUID": r"[A-Fa-f0-9]{8}-(?:[A-Fa-f0-9]{4}-){3}[A-Fa-f0-9]{12}",
    "IPV4": r"(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)",
    "IPV6": r"(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}",
    "IP": r"(?:%{IPV6}|%{IPV4})",
    "HOSTNAME": r"\b(?:[0-9A-Za-z][0-9A-Za-z-]{0,62})(?:\.(?:[0-9A-Za-z][0-9A-Za-z-]{0,62}))*(?:\.?|\b)",
    "IPORHOST": r"(?:%{IP}|%{HOSTNAME})",
    "HOSTPORT": r"%{IPORHOST}:%{POSINT}",
    "PATH": r"(?:/[^\s]*)+",
    "URIPATHPARAM": r"\S+",
    "MONTH": r"\b(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|Jun(?:e)?|Jul(?:y)?|Aug(?:ust)?|Sep(?:tember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\b",
    "MONTHNUM": r"(?:0?[1-9]|1[0-2])",
    "MONTHDAY": r"(?:(?:0[1-9])|(?:[12][0-9])|(?:3[01])|[1-9])",
    "DAY": r"(?:Mon(?:day)?|Tue(?:sday)?|Wed(?:nesday)?|Thu(?:rsday)?|Fri(?:day)?|Sat(?:urday)?|Sun(?:day)?)",
    "YEAR": r"(?:\d\d){1,2}",
    "HOUR": r"(?:2[0123]|[01]?[0-9])",
    "MINUTE": r"(?:[0-5][0-9])",
    "SECOND": r"(?:(?:[0-5]?[0-9]|60)(?:[:.,][0-9]+)?)",
    "TIME": r"%{HOUR}:%{MINUTE}(?::%{SECOND})?",
    "ISO8601_TIMEZONE": r"(?:Z|[+-]%{HOUR}(?::?%{MINUTE}))",
    "TIMESTAMP_ISO8601": r"%{YEAR}-%{MONTHNUM}-%{MONTHDAY}[T ]%{HOUR}:?%{MINUTE}(?::?%{SECOND})?%{ISO8601_TIMEZONE}?",
    "DATE_US": r"%{MONTHNUM}[/-]%{MONTHDAY}[/-]%{YEAR}",
    "DATE_EU": r"%{MONTHDAY}[./-]%{MONTHNUM}[./-]%{YEAR}",
    "DATE": r"%{DATE_US}|%{DATE_EU}",
    "HTTPDATE": r"%{MONTHDAY}/%{MONTH}/%{YEAR}:%{TIME} %{INT}",
    "SYSLOGTIMESTAMP": r"%{MONTH} +%{MONTHDAY} %{TIME}",
    "LOGLEVEL": r"(?:[Aa]lert|ALERT|[Tt]race|TRACE|[Dd]ebug|DEBUG|[Nn]otice|NOTICE|[Ii]nfo|INFO|[Ww]arn?(?:ing)?|WARN?(?:ING)?|[Ee]rr?(?:or)?|ERR?(?:OR)?|[Cc]rit?(?:ical)?|CRIT?(?:ICAL)?|[Ff]atal|FATAL|[Ss]evere|SEVERE|EMERG(?:ENCY)?|[Ee]merg(?:ency)?)",
}

_REFERENCE = re.compile(r"%\{(\w+)(?::([\w.@-]+))?(?::(\w+))?\}")
_TYPES = {"int": "int", "long": "bigint", "float": "float", "double": "double", "boolean": "boolean", "string": "string"}


class GrokError(ValueError):
    """A grok pattern that references an unknown pattern or is not a valid expression."""


@dataclass(frozen=True)
class Grok:
    """A compiled grok pattern: the regex and its typed columns, in order."""

    regex: re.Pattern[str]
    columns: tuple[tuple[str, str], ...]

    def match(self, line: str) -> dict[str, str] | None:
        """The captured fields of a fully matching line, or None."""
        found = self.regex.fullmatch(line)
        if not found:
            return None
        return {name: found.group(f"c{i}") for i, (name, _) in enumerate(self.columns)}


def parse_custom_patterns(text: str | None) -> dict[str, str]:
    """``NAME regex`` lines (blank lines and ``#`` comments skipped)."""
    patterns: dict[str, str] = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, body = line.partition(" ")
            if not body.strip():
                raise GrokError(f"Custom pattern {name!r} has no expression")
            patterns[name] = body.strip()
    return patterns


def compile_grok(pattern: str, custom_patterns: str | None = None) -> Grok:
    """Compile ``pattern`` with Glue's built-in and the given custom patterns."""
    library = {**BUILTIN_PATTERNS, **parse_custom_patterns(custom_patterns)}
    columns: list[tuple[str, str]] = []

    def expand(text: str, depth: int, capture: bool) -> str:
        if depth > 20:
            raise GrokError("Grok pattern nesting is too deep (recursive pattern?)")

        def replace(found: re.Match[str]) -> str:
            name, field, kind = found.groups()
            if name not in library:
                raise GrokError(f"Unknown grok pattern %{{{name}}}")
            body = expand(library[name], depth + 1, capture=False)
            if field and capture:
                if kind and kind not in _TYPES:
                    raise GrokError(f"Unknown grok type {kind!r} in %{{{found.group(0)[2:-1]}}}")
                columns.append((field.lower(), _TYPES[kind or "string"]))
                return f"(?P<c{len(columns) - 1}>{body})"
            return f"(?:{body})"

        return _REFERENCE.sub(replace, text)

    expanded = expand(pattern, 0, capture=True)
    try:
        regex = re.compile(expanded)
    except re.error as exc:
        raise GrokError(f"Invalid grok pattern: {exc}") from exc
    return Grok(regex, tuple(columns))
