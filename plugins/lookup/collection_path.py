# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: collection_path
short_description: Where the linkops.cluster_linking collection that Ansible runs is installed
version_added: 1.0.0
author: linkops maintainers (@linkops)
description:
  - Returns the directory of the copy of this collection that Ansible resolved (the one whose plugins, modules and
    roles this run uses), as a real path.
  - The playbooks compare it with the collection their own files belong to, and warn when a run would use another
    installed copy (an older release in C(~/.ansible/collections), for example).
'''

EXAMPLES = r'''
- name: Which copy of the collection runs
  ansible.builtin.debug:
    msg: "{{ lookup('linkops.cluster_linking.collection_path') }}"
'''

RETURN = r'''
_raw:
  description: One item, the collection's directory (C(.../ansible_collections/linkops/cluster_linking)).
  type: list
  elements: str
'''

import os

from ansible.plugins.lookup import LookupBase


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        return [os.path.realpath(os.path.join(os.path.dirname(__file__), '..', '..'))]
