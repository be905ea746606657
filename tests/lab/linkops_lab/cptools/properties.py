"""Java properties files and config lists as the Kafka tools read them.

``parse_properties`` / ``load_properties``: java.util.Properties.load semantics (comments,
``key=value`` / ``key:value`` / ``key value``, escapes including ``\\uXXXX``, line
continuation, ISO-8859-1 files as Kafka's ``Utils.loadProps`` reads them); ``read_text_file``;
``parse_config_list``: the ``--add-config`` list (``k=v,k2=[a,b]``).
"""

from __future__ import annotations

import re
from pathlib import Path

from linkops_lab.cptools.errors import CommandError, UsageError


_WS = " \t\f"


def _odd_trailing_backslashes(s: str) -> bool:
    n = len(s) - len(s.rstrip("\\"))
    return n % 2 == 1


def _unescape(s: str) -> str:
    out = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        i += 1
        if c != "\\":
            out.append(c)
            continue
        if i >= n:  # a lone trailing backslash (end of file after a continuation)
            break
        c = s[i]
        i += 1
        if c == "u":
            digits = s[i:i + 4]
            if len(digits) != 4 or not all(d in "0123456789abcdefABCDEF" for d in digits):
                raise ValueError("Malformed \\uxxxx encoding.")
            out.append(chr(int(digits, 16)))
            i += 4
        else:
            out.append({"t": "\t", "r": "\r", "n": "\n", "f": "\f"}.get(c, c))
    return "".join(out)


def _split_key_value(line: str) -> tuple[str, str]:
    key_end = len(line)
    value_start = len(line)
    has_sep = False
    backslash = False
    for i, c in enumerate(line):
        if c in "=:" and not backslash:
            key_end, value_start, has_sep = i, i + 1, True
            break
        if c in _WS and not backslash:
            key_end, value_start = i, i + 1
            break
        backslash = (not backslash) if c == "\\" else False
    i = value_start
    while i < len(line):
        c = line[i]
        if c not in _WS:
            if not has_sep and c in "=:":
                has_sep = True
            else:
                break
        i += 1
    return line[:key_end], line[i:]


def parse_properties(text: str) -> dict[str, str]:
    """Parse the text of a Java properties file (java.util.Properties.load).

    Later duplicates win; trailing whitespace of values is kept (as Java does).
    Raises ValueError on a malformed ``\\uXXXX`` escape."""
    props: dict[str, str] = {}
    lines = re.split(r"\r\n|\r|\n", text)
    i = 0
    while i < len(lines):
        stripped = lines[i].lstrip(_WS)
        i += 1
        if not stripped or stripped[0] in "#!":
            continue
        logical = stripped
        while _odd_trailing_backslashes(logical):
            logical = logical[:-1]
            if i >= len(lines):
                break
            logical += lines[i].lstrip(_WS)
            i += 1
        key, value = _split_key_value(logical)
        props[_unescape(key)] = _unescape(value)
    return props


def load_properties(path: str, option: str) -> dict[str, str]:
    """Read a properties file named by ``option``; errors name the option."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise CommandError(f"java.nio.file.NoSuchFileException: {path} (the file given to "
                           f"--{option} does not exist)") from None
    except IsADirectoryError:
        raise CommandError(f"java.io.IOException: {path} is a directory, not a properties file "
                           f"(--{option})") from None
    except PermissionError:
        raise CommandError(f"java.nio.file.AccessDeniedException: {path} (the file given to "
                           f"--{option} is not readable)") from None
    try:
        # Kafka's Utils.loadProps reads the stream as ISO-8859-1 (Properties.load(InputStream))
        return parse_properties(raw.decode("latin-1"))
    except ValueError as exc:
        raise CommandError(f"java.lang.IllegalArgumentException: {exc} in {path} "
                           f"(--{option})") from None


def read_text_file(path: str, option: str) -> str:
    """A whole file as text (filter JSON files), errors naming the option."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"java.nio.file.NoSuchFileException: {path} (the file given to "
                           f"--{option} does not exist)") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {path} given to --{option}: {exc}") from None


_NOT_IN_BRACKETS = r"(?=[^\]]*(?:\[|$))"


def parse_config_list(text: str) -> dict[str, str]:
    """``k=v,k2=[a,b]`` as Apache Kafka's ConfigCommand parses ``--add-config``:
    commas inside square brackets do not split, and every ``[`` and ``]`` is
    then removed from the values."""
    items = re.split("," + _NOT_IN_BRACKETS, text)
    while items and items[-1] == "":  # Java's String.split drops trailing empty strings
        items.pop()
    out: dict[str, str] = {}
    for item in items:
        pair = re.split(r"\s*=\s*" + _NOT_IN_BRACKETS, item)
        if len(pair) != 2:
            raise UsageError('Invalid entity config: all configs to be added must be in the '
                             'format "key=val".')
        out[pair[0].strip()] = pair[1].replace("[", "").replace("]", "").strip()
    return out
