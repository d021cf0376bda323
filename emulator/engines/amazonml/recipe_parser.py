"""Tokenizer and parser for Amazon ML recipe expressions.

Grammar (whitespace-insensitive)::

    expr  := NAME | NAME '(' expr (',' expr)* ')'
    NAME  := bare run of characters other than , ' " ( ) \\ and whitespace
           | 'single quoted' | "double quoted"   (backslash escapes the next char)

A ``//`` outside quotes starts a comment that runs to the end of the string.
Bare all-digit names are integer literals when a function expects one.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import EngineInputError

_SPECIAL = set(",'\"()\\")


@dataclass(frozen=True)
class Token:
    """A lexical token: kind is NAME, '(', ')' or ','."""

    kind: str
    text: str
    quoted: bool
    pos: int


@dataclass(frozen=True)
class Name:
    """A variable/group name or integer literal."""

    text: str
    quoted: bool


@dataclass(frozen=True)
class Call:
    """A function application."""

    func: str
    args: tuple


def tokenize(text: str, where: str) -> list[Token]:
    """Split an expression into tokens; raise EngineInputError on bad quoting."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "/" and text.startswith("//", i):
            break
        elif c in "(),":
            tokens.append(Token(c, c, False, i))
            i += 1
        elif c in "'\"":
            quote, start, buf = c, i, []
            i += 1
            while i < n and text[i] != quote:
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                buf.append(text[i])
                i += 1
            if i >= n:
                raise EngineInputError(f"Recipe {where}: unterminated quoted name starting at position {start}")
            i += 1
            tokens.append(Token("NAME", "".join(buf), True, start))
        elif c == "\\":
            raise EngineInputError(f"Recipe {where}: unexpected '\\' at position {i}")
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in _SPECIAL and not text.startswith("//", i):
                i += 1
            tokens.append(Token("NAME", text[start:i], False, start))
    return tokens


def parse_expression(text: str, where: str):
    """Parse one recipe expression into a :class:`Name`/:class:`Call` tree."""
    if not isinstance(text, str):
        raise EngineInputError(f"Recipe {where} must be a string expression")
    tokens = tokenize(text, where)
    if not tokens:
        raise EngineInputError(f"Recipe {where} is an empty expression")
    pos = 0

    def expect(kind: str) -> Token:
        nonlocal pos
        if pos >= len(tokens):
            raise EngineInputError(f"Recipe {where} '{text.strip()}': expected '{kind}' but the expression ended")
        tok = tokens[pos]
        if tok.kind != kind:
            shown = "a name" if kind == "NAME" else f"'{kind}'"
            raise EngineInputError(
                f"Recipe {where} '{text.strip()}': expected {shown} at position {tok.pos}, found '{tok.text}'")
        pos += 1
        return tok

    def expr():
        nonlocal pos
        tok = expect("NAME")
        if pos < len(tokens) and tokens[pos].kind == "(":
            if tok.quoted:
                raise EngineInputError(f"Recipe {where}: quoted name '{tok.text}' cannot be called as a function")
            pos += 1
            args = [expr()]
            while pos < len(tokens) and tokens[pos].kind == ",":
                pos += 1
                args.append(expr())
            expect(")")
            return Call(tok.text, tuple(args))
        return Name(tok.text, tok.quoted)

    tree = expr()
    if pos != len(tokens):
        tok = tokens[pos]
        raise EngineInputError(
            f"Recipe {where} '{text.strip()}': unexpected '{tok.text}' at position {tok.pos}")
    return tree


def render(node) -> str:
    """Canonical text of an expression tree (names quoted when needed)."""
    if isinstance(node, Name):
        return quote_name(node.text) if node.quoted else node.text
    return f"{node.func}({','.join(render(a) for a in node.args)})"


def quote_name(name: str) -> str:
    """Single-quote a name, escaping quotes and backslashes."""
    return "'" + name.replace("\\", "\\\\").replace("'", "\\'") + "'"
