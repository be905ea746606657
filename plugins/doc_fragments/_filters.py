# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The entries of the three filter documents (cluster-linking-api.md section 3), one fragment each.

    A module that takes a filter option names the fragment and documents the option itself with a
    description only: the module's description wins, the fragment adds type, elements and suboptions
    (FILTER_ENTRY_SPEC and ACL_FILTER_ENTRY_SPEC in module_utils/_filters.py are the argument specs)."""

    DOCUMENTATION = r'''
options: {}
'''

    TOPIC_FILTERS = r'''
options:
  topic_filters:
    description:
      - Topic filter entries (link config C(auto.create.mirror.topics.filters)).
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - Topic name, name prefix, or V(*) with O(topic_filters[].pattern_type=LITERAL) for all topics.
          - Kafka's topic name rules - ASCII letters, digits, C(.), C(_) and C(-), at most 249 characters, not
            V(.) or V(..) (a V(PREFIXED) name may be either). V(*) only as the whole name with V(LITERAL);
            there are no wildcards inside a name (use V(PREFIXED)).
        type: str
        required: true
      pattern_type:
        description: V(LITERAL) matches the name exactly, V(PREFIXED) matches names that start with it. Any case.
        type: str
        default: LITERAL
        aliases: [patternType]
      filter_type:
        description: V(INCLUDE) or V(EXCLUDE). Any case.
        type: str
        default: INCLUDE
        aliases: [filterType]
'''

    CONSUMER_GROUP_FILTERS = r'''
options:
  consumer_group_filters:
    description:
      - Consumer group filter entries (link config C(consumer.offset.group.filters)).
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - Group name, name prefix, or V(*) with O(consumer_group_filters[].pattern_type=LITERAL) for all groups.
          - ASCII letters, digits and C(.), C(_), C(-), C(:), C(@), C(/), C(+), C(=), at most 249 characters;
            no blanks, quotes or shell characters. V(*) only as the whole name with V(LITERAL).
        type: str
        required: true
      pattern_type:
        description: V(LITERAL) or V(PREFIXED). Any case.
        type: str
        default: LITERAL
        aliases: [patternType]
      filter_type:
        description: V(INCLUDE) or V(EXCLUDE). Any case.
        type: str
        default: INCLUDE
        aliases: [filterType]
'''

    ACL_FILTERS = r'''
options:
  acl_filters:
    description:
      - ACL binding filter entries (link config C(acl.filters)).
    type: list
    elements: dict
    suboptions:
      resource_type:
        description:
          - Required. One of V(any), V(topic), V(group), V(cluster), V(transactionalId), V(delegationToken), V(user).
        type: str
        aliases: [resourceType]
      resource_name:
        description:
          - The resource name; left out, any name.
          - With O(acl_filters[].pattern_type=literal) or V(prefixed) it selects the ACLs of that pattern type whose
            name is exactly this; with V(match), the ACLs that apply to a resource of this name (literal ACLs of
            this name or V(*), prefixed ACLs whose prefix it starts with); with V(any), ACLs of this name of any
            pattern type.
        type: str
        aliases: [name]
      pattern_type:
        description:
          - Required. One of V(any), V(match), V(literal), V(prefixed).
        type: str
        aliases: [patternType]
      principal:
        description:
          - The principal as C(Type:name), for example V(User:alice) or V(User:*); left out, any principal.
        type: str
      host:
        description:
          - The host the ACL allows or denies, for example V(*); left out, any host.
        type: str
      operation:
        description:
          - Required. One of V(any), V(all), V(read), V(write), V(create), V(delete), V(alter), V(describe),
            V(clusterAction), V(describeConfigs), V(alterConfigs), V(idempotentWrite), V(createTokens),
            V(describeTokens).
        type: str
      permission_type:
        description:
          - Required. One of V(any), V(allow), V(deny).
        type: str
        aliases: [permissionType]
'''
