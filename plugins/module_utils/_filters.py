# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Topic, consumer-group and ACL filter documents: validation and the JSON Confluent stores.

Topic filters go to the link config auto.create.mirror.topics.filters as
{"topicFilters": [...]}, group filters to consumer.offset.group.filters as {"groupFilters": [...]};
each entry is {"name", "patternType": LITERAL|PREFIXED, "filterType": INCLUDE|EXCLUDE}.

ACL filters go to acl.filters as {"aclFilters": [...]}; each entry is
{"resourceFilter": {"resourceType", "name"?, "patternType"},
 "accessFilter": {"principal"?, "host"?, "operation", "permissionType"}}.
Their values follow Kafka's SecurityUtils: the exact PascalCase name, or any spelling whose upper
case equals the upper-cased PascalCase name; underscores are not stripped, so describeConfigs,
DescribeConfigs and DESCRIBECONFIGS are accepted and describe_configs is not.

Public API used by the modules (cluster_link, link_filters):

* FILTER_ENTRY_SPEC, ACL_FILTER_ENTRY_SPEC: argument specs of one list entry;
* build_filter_entries(entries, option), build_acl_filter_entries(entries, option): YAML entries
  to validated JSON entries, FilterError naming option[index].field and the fix;
* topic_filter_document, group_filter_document, acl_filter_document: YAML entries to the whole
  document as a dict; filter_document(kind, entries): validated entries to the stored JSON text;
* canonical_json(document), documents_equal(a, b): the stored text and a content comparison;
* filter_matches(entries, name), acl_filter_matches(entries, binding): what the filters select.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.linkops.cluster_linking.plugins.module_utils._validate import InputError, check_filter_name

PATTERN_TYPES = ('LITERAL', 'PREFIXED')
FILTER_TYPES = ('INCLUDE', 'EXCLUDE')

# filter kind -> (document key, link config that stores it)
FILTER_KINDS = {
    'topic': ('topicFilters', 'auto.create.mirror.topics.filters'),
    'group': ('groupFilters', 'consumer.offset.group.filters'),
    'acl': ('aclFilters', 'acl.filters'),
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


def build_filter_entries(entries, option, kind=None):
    """Validate filter entries given as YAML and return them in Confluent's JSON spelling.

    Enum values are accepted in any case and written upper case, as Confluent stores them.
    Names follow _validate.check_filter_name for kind 'topic' or 'group' (by default 'group' for an
    option named consumer_group_filters..., else 'topic').
    """
    if kind is None:
        kind = 'group' if option.startswith('consumer_group') else 'topic'
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
        try:
            check_filter_name(name, pattern, kind, where + '.name')
        except InputError as exc:
            raise FilterError(exc.message)
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


def topic_filter_document(entries, option='topic_filters'):
    """{"topicFilters": [...]} from YAML entries (validated; FilterError names option[index])."""
    return {'topicFilters': build_filter_entries(entries, option, kind='topic')}


def group_filter_document(entries, option='consumer_group_filters'):
    """{"groupFilters": [...]} from YAML entries (validated; FilterError names option[index])."""
    return {'groupFilters': build_filter_entries(entries, option, kind='group')}


def canonical_json(document):
    """The compact JSON text of a filter document, as stored in a link config."""
    return json.dumps(document, separators=(',', ':'))


def documents_equal(first, second):
    """Content comparison of two filter documents, each a dict or JSON text.

    Formatting and the order of keys inside an object do not matter; the order of list entries
    does. Text that is not JSON equals nothing.
    """
    def load(value):
        if isinstance(value, (dict, list)):
            return value
        return parse_filter_document(value)
    a, b = load(first), load(second)
    return a is not None and b is not None and a == b


# -- ACL filters ------------------------------------------------------------------------------

# Kafka enum names (ResourceType, PatternType, AclOperation, AclPermissionType) in the spelling
# Confluent's documentation writes them. UNKNOWN is left out: the server refuses it.
ACL_RESOURCE_TYPES = ('any', 'topic', 'group', 'cluster', 'transactionalId', 'delegationToken', 'user')
ACL_PATTERN_TYPES = ('any', 'match', 'literal', 'prefixed')
ACL_OPERATIONS = ('any', 'all', 'read', 'write', 'create', 'delete', 'alter', 'describe', 'clusterAction',
                  'describeConfigs', 'alterConfigs', 'idempotentWrite', 'createTokens', 'describeTokens')
ACL_PERMISSION_TYPES = ('any', 'allow', 'deny')

# The argument spec of one ACL filter entry. Nothing is required here so that a missing field is
# reported by build_acl_filter_entries with the entry's index (acl_filters[2].operation: ...).
ACL_FILTER_ENTRY_SPEC = dict(
    resource_type=dict(type='str', aliases=['resourceType']),
    resource_name=dict(type='str', aliases=['name']),
    pattern_type=dict(type='str', aliases=['patternType']),
    principal=dict(type='str'),
    host=dict(type='str'),
    operation=dict(type='str'),
    permission_type=dict(type='str', aliases=['permissionType']),
)

# field -> (JSON object, JSON field, allowed values or None, what it is, required)
_ACL_FIELDS = (
    ('resource_type', 'resourceFilter', 'resourceType', ACL_RESOURCE_TYPES, 'an ACL resource type', True),
    ('resource_name', 'resourceFilter', 'name', None, 'a resource name', False),
    ('pattern_type', 'resourceFilter', 'patternType', ACL_PATTERN_TYPES, 'an ACL pattern type', True),
    ('principal', 'accessFilter', 'principal', None, 'a principal', False),
    ('host', 'accessFilter', 'host', None, 'a host', False),
    ('operation', 'accessFilter', 'operation', ACL_OPERATIONS, 'an ACL operation', True),
    ('permission_type', 'accessFilter', 'permissionType', ACL_PERMISSION_TYPES, 'an ACL permission type', True),
)

_ACL_KNOWN_KEYS = frozenset(ACL_FILTER_ENTRY_SPEC).union(
    alias for spec in ACL_FILTER_ENTRY_SPEC.values() for alias in spec.get('aliases', []))


def acl_value(value, allowed):
    """The canonical spelling of value among allowed (Kafka SecurityUtils rules), or None.

    SecurityUtils looks the value up among the PascalCase names (DescribeConfigs) and, failing
    that, upper-cases it and looks again among the upper-cased PascalCase names (DESCRIBECONFIGS).
    So any case works (describeConfigs, DESCRIBECONFIGS, describeconfigs) but underscores are not
    removed: describe_configs is refused.
    """
    if not isinstance(value, str):
        return None
    for name in allowed:
        if value.upper() == name.upper():
            return name
    return None


def _acl_suggestion(value, allowed):
    """The allowed name that value means once underscores, dashes and blanks are dropped."""
    squeezed = ''.join(c for c in str(value) if c not in '_- \t').upper()
    for name in allowed:
        if squeezed == name.upper():
            return name
    return None


def _acl_enum(value, allowed, what, where):
    name = acl_value(value, allowed)
    if name is not None:
        return name
    hint = _acl_suggestion(value, allowed)
    if hint is not None:
        raise FilterError("%s: '%s' is not %s; use %s (Kafka does not accept underscores or dashes here)."
                          % (where, value, what, hint))
    raise FilterError("%s: '%s' is not %s; use one of %s." % (where, value, what, ', '.join(allowed)))


def parse_principal(value):
    """(type, name) of a Kafka principal such as User:Bob, or None when it is not Type:name."""
    if not isinstance(value, str) or ':' not in value:
        return None
    kind, name = value.split(':', 1)
    if not kind.strip() or not name:
        return None
    return kind, name


def build_acl_filter_entries(entries, option='acl_filters'):
    """Validate ACL filter entries given as YAML (snake_case keys, see ACL_FILTER_ENTRY_SPEC) and
    return them in Confluent's JSON spelling.

    resource_type, pattern_type, operation and permission_type are required; resource_name,
    principal and host are optional (left out of the JSON, so they match anything). An empty list
    is refused, as the server refuses an empty aclFilters list.
    """
    if not entries:
        raise FilterError('%s: give at least one ACL filter; Confluent refuses an empty aclFilters list '
                          '(to sync every ACL use resource_type, pattern_type, operation and '
                          'permission_type any).' % option)
    result = []
    for index, entry in enumerate(entries):
        where = '%s[%d]' % (option, index)
        if not isinstance(entry, dict):
            raise FilterError('%s: each ACL filter is a mapping with resource_type, pattern_type, operation and '
                              'permission_type (and optionally resource_name, principal, host).' % where)
        unknown = sorted(str(key) for key in entry if key not in _ACL_KNOWN_KEYS)
        if unknown:
            raise FilterError('%s: unknown field(s) %s; use %s.' % (where, ', '.join(unknown),
                                                                    ', '.join(ACL_FILTER_ENTRY_SPEC)))
        document = {'resourceFilter': {}, 'accessFilter': {}}
        for field, part, key, allowed, what, required in _ACL_FIELDS:
            value = entry.get(field)
            if value is None:
                if required:
                    raise FilterError('%s.%s: required; use one of %s.' % (where, field, ', '.join(allowed)))
                continue
            field_where = '%s.%s' % (where, field)
            if allowed is not None:
                value = _acl_enum(value, allowed, what, field_where)
            elif not isinstance(value, str) or not value:
                raise FilterError("%s: give %s or leave the field out to match any." % (field_where, what))
            elif field == 'principal' and parse_principal(value) is None:
                raise FilterError("%s: '%s' is not a principal; write it as Type:name, for example User:alice "
                                  "(User:* for every user)." % (field_where, value))
            document[part][key] = value
        result.append(document)
    return result


def acl_filter_document(entries, option='acl_filters'):
    """{"aclFilters": [...]} from YAML entries (validated; FilterError names option[index])."""
    return {'aclFilters': build_acl_filter_entries(entries, option)}


def _acl_pattern_matches(resource_filter, binding):
    """Kafka ResourcePatternFilter.matches for one binding (a flat dict, see acl_filter_matches)."""
    wanted_type = resource_filter['resourceType']
    if wanted_type != 'any' and wanted_type != binding['resourceType']:
        return False
    pattern = resource_filter['patternType']
    if pattern not in ('any', 'match') and pattern != binding['patternType']:
        return False
    name = resource_filter.get('name')
    if name is None:
        return True
    if pattern in ('any', binding['patternType']):
        return name == binding['name']
    # MATCH: the ACLs that would apply to a resource called name
    if binding['patternType'] == 'literal':
        return name == binding['name'] or binding['name'] == '*'
    if binding['patternType'] == 'prefixed':
        return name.startswith(binding['name'])
    return False


def _acl_access_matches(access_filter, binding):
    """Kafka AccessControlEntryFilter.matches for one binding."""
    for key in ('principal', 'host'):
        if access_filter.get(key) is not None and access_filter[key] != binding[key]:
            return False
    for key in ('operation', 'permissionType'):
        if access_filter[key] != 'any' and access_filter[key] != binding[key]:
            return False
    return True


def acl_filter_matches(entries, binding):
    """True when some validated ACL filter entry selects binding, as Kafka's AclBindingFilter does.

    binding is a flat dict in the canonical spelling: resourceType, name, patternType, principal,
    host, operation, permissionType (for example {'resourceType': 'topic', 'name': 'orders',
    'patternType': 'literal', 'principal': 'User:bob', 'host': '*', 'operation': 'read',
    'permissionType': 'allow'}). A filter's pattern type selects bindings of that pattern type with
    that exact name; match selects the bindings that would apply to a resource of that name.
    """
    return any(_acl_pattern_matches(entry['resourceFilter'], binding) and _acl_access_matches(entry['accessFilter'], binding)
               for entry in entries)
