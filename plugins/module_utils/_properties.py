# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Java properties files read as java.util.Properties.load() reads them.

The CP tools take a link's settings from such a file (kafka-cluster-links --config-file), so a
file written for them must mean the same thing here: comment lines (# or !), key and value split at
the first unescaped '=', ':' or blank, escapes (\\t \\n \\r \\f \\uXXXX, backslash before any
other character keeps that character), lines continued by an odd number of trailing backslashes
with the next line's leading blanks dropped, the last of duplicate keys winning.

to_java_properties writes such a file; parse_properties reads it back to the same dict.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

_BLANKS = ' \t\f'
_ESCAPES = {'t': '\t', 'n': '\n', 'r': '\r', 'f': '\f'}


class PropertiesError(ValueError):
    """A properties text Java would refuse (a malformed \\uXXXX escape), with its line number."""


def _logical_lines(text):
    """(line number, logical line) pairs: comments and blank lines dropped, continuations joined."""
    natural = text.replace('\r\n', '\n').replace('\r', '\n').split('\n')
    index = 0
    while index < len(natural):
        number = index + 1
        line = natural[index].lstrip(_BLANKS)
        index += 1
        if not line or line[0] in '#!':
            continue
        while _continues(line) and index < len(natural):
            line = line[:-1] + natural[index].lstrip(_BLANKS)
            index += 1
        if _continues(line):  # a continuation at the end of the text continues into nothing
            line = line[:-1]
        yield number, line


def _continues(line):
    """True when the line ends with an odd number of backslashes."""
    count = len(line) - len(line.rstrip('\\'))
    return count % 2 == 1


def _split(line):
    """(raw key, raw value) of a logical line, both still escaped."""
    index = 0
    while index < len(line):
        char = line[index]
        if char == '\\':
            index += 2
            continue
        if char in '=:' or char in _BLANKS:
            break
        index += 1
    key, rest = line[:index], line[index:]
    rest = rest.lstrip(_BLANKS)
    if rest[:1] in ('=', ':'):
        rest = rest[1:].lstrip(_BLANKS)
    return key, rest


def _unescape(text, number):
    out = []
    index = 0
    while index < len(text):
        char = text[index]
        if char != '\\':
            out.append(char)
            index += 1
            continue
        index += 1
        if index >= len(text):
            break
        char = text[index]
        if char == 'u':
            digits = text[index + 1:index + 5]
            if len(digits) != 4 or any(c not in '0123456789abcdefABCDEF' for c in digits):
                raise PropertiesError('line %d: malformed \\uxxxx escape.' % number)
            out.append(chr(int(digits, 16)))
            index += 5
            continue
        out.append(_ESCAPES.get(char, char))
        index += 1
    return ''.join(out)


def parse_properties(text):
    """The {key: value} a Java properties text holds (later duplicates win). PropertiesError when malformed."""
    if isinstance(text, bytes):
        text = decode_properties(text)
    result = {}
    for number, line in _logical_lines(text):
        key, value = _split(line)
        result[_unescape(key, number)] = _unescape(value, number)
    return result


def parse_properties_lines(text):
    """[(line number, key, value)] of a Java properties text in file order, duplicates kept.

    The line number is that of the line a (possibly continued) entry starts on.
    """
    if isinstance(text, bytes):
        text = decode_properties(text)
    return [(number, _unescape(key, number), _unescape(value, number))
            for number, (key, value) in ((n, _split(line)) for n, line in _logical_lines(text))]


def decode_properties(data):
    """Text of a properties file's bytes: UTF-8 when it is valid UTF-8, else ISO-8859-1 (what Java reads)."""
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        return data.decode('iso-8859-1')


def load_properties_file(path):
    """{key: value} of the properties file at path; PropertiesError naming the file when it cannot be read."""
    return dict((key, value) for dummy, key, value in load_properties_lines(path))


def load_properties_lines(path):
    """[(line number, key, value)] of the properties file at path; PropertiesError naming the file."""
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        raise PropertiesError('cannot read %s: %s.' % (path, exc.strerror or exc))
    try:
        return parse_properties_lines(data)
    except PropertiesError as exc:
        raise PropertiesError('%s: %s' % (path, exc))


def _escape(text, is_key):
    out = []
    for i, ch in enumerate(text):
        if ch == '\\':
            out.append('\\\\')
        elif ch == '\n':
            out.append('\\n')
        elif ch == '\r':
            out.append('\\r')
        elif ch == '\t':
            out.append('\\t')
        elif ch == '\f':
            out.append('\\f')
        elif ch in '=:#!' and (is_key or i == 0):
            out.append('\\' + ch)
        elif ch == ' ' and (is_key or i == 0):
            out.append('\\ ')
        elif ord(ch) > 126 or ord(ch) < 32:
            out.append('\\u%04x' % ord(ch))
        else:
            out.append(ch)
    return ''.join(out)


def property_value(value):
    """A Python value as the string a Java properties file holds (booleans lower case, lists comma-joined)."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return ','.join(property_value(v) for v in value)
    if value is None:
        return ''
    return str(value)


def to_java_properties(settings):
    """Properties-file text for a dict: one key=value line per entry, sorted, escaped as Java reads it.

    Entries whose value is None are left out, so optional settings can be passed as None.
    """
    if not isinstance(settings, dict):
        raise PropertiesError('expected a dict of settings, got %s.' % type(settings).__name__)
    lines = []
    for key in sorted(settings, key=str):
        value = settings[key]
        if value is None:
            continue
        if not isinstance(key, str) or not key.strip():
            raise PropertiesError('%r is not a property name.' % (key,))
        lines.append('%s=%s' % (_escape(key, True), _escape(property_value(value), False)))
    return '\n'.join(lines) + ('\n' if lines else '')
