# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Topic and consumer-group filter documents: validation and the JSON Confluent stores.

Topic filters go to the link config auto.create.mirror.topics.filters as
{"topicFilters": [...]}, group filters to consumer.offset.group.filters as {"groupFilters": [...]};
each entry is {"name", "patternType": LITERAL|PREFIXED, "filterType": INCLUDE|EXCLUDE}.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

PATTERN_TYPES = ('LITERAL', 'PREFIXED')
FILTER_TYPES = ('INCLUDE', 'EXCLUDE')

# filter kind -> (document key, link config that stores it)
FILTER_KINDS = {
    'topic': ('topicFilters', 'auto.create.mirror.topics.filters'),
    'group': ('groupFilters', 'consumer.offset.group.filters'),
}

# The argument spec of one filter entry, shared by the modules that take filters.
FILTER_ENTRY_SPEC = dict(
    name=dict(type='str', required=True),
    pattern_type=dict(type='str', default='LITERAL', aliases=['patternType']),
    filter_type=dict(type='str', default='INCLUDE', aliases=['filterType']),
)


class FilterError(ValueError):
    """A filter entry that Confluent would refuse; the message names the option and the fix."""


def _enum(value, allowed, where):
    text = str(value).strip().upper() if value is not None else ''
    if text not in allowed:
        raise FilterError("%s: '%s' is not valid; use one of %s." % (where, value, ', '.join(allowed)))
    return text


def build_filter_entries(entries, option):
    """Validate filter entries given as YAML and return them in Confluent's JSON spelling.

    Enum values are accepted in any case and written upper case, as Confluent stores them.
    """
    result = []
    for index, entry in enumerate(entries or []):
        where = '%s[%d]' % (option, index)
        if not isinstance(entry, dict):
            raise FilterError('%s: each filter is a mapping with name, pattern_type and filter_type.' % where)
        name = entry.get('name')
        if not isinstance(name, str) or not name.strip():
            raise FilterError('%s.name: give a topic or group name, a prefix, or * for all.' % where)
        pattern = _enum(entry.get('pattern_type', 'LITERAL'), PATTERN_TYPES, where + '.pattern_type')
        if name == '*' and pattern != 'LITERAL':
            raise FilterError("%s: name '*' (all) needs pattern_type LITERAL." % where)
        result.append({
            'name': name,
            'patternType': pattern,
            'filterType': _enum(entry.get('filter_type', 'INCLUDE'), FILTER_TYPES, where + '.filter_type'),
        })
    return result


def filter_document(kind, entries):
    """The JSON text Confluent stores in the link config for these (validated) entries."""
    key = FILTER_KINDS[kind][0]
    return json.dumps({key: entries}, separators=(',', ':'))


def parse_filter_document(text):
    """Parse a stored filter document; None for an empty or unparsable value."""
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _matches(entry, name):
    if entry['patternType'] == 'PREFIXED':
        return name.startswith(entry['name'])
    return entry['name'] == '*' or entry['name'] == name


def filter_matches(entries, name):
    """True when name passes the filters: some INCLUDE matches and no EXCLUDE does."""
    included = any(_matches(e, name) for e in entries if e['filterType'] == 'INCLUDE')
    excluded = any(_matches(e, name) for e in entries if e['filterType'] == 'EXCLUDE')
    return included and not excluded
