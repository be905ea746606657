# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: noninteractive
short_description: Why this run cannot ask the operator a question (empty when it can)
version_added: 1.0.0
author: linkops maintainers (@linkops)
description:
  - Returns one item, a short reason why nobody can answer a question (C(ansible.builtin.pause)) in this run, or an
    empty string when a question can be asked and answered.
  - A run cannot ask when it is an Ansible Automation Platform or AWX job (C(awx_job_id) or C(tower_job_id) is set);
    when it runs under ansible-runner (what AAP runs jobs with; the playbook gets a pseudo-terminal nobody types
    into, so a question waits until the idle timeout); or when the standard input of C(ansible-playbook) is not a
    terminal in the foreground (CI, cron, C(< /dev/null), a background job).
  - The role C(linkops.cluster_linking.confirm) uses it to refuse an unanswered confirmation at once, before the
    first change, instead of asking a question nobody can answer.
  - The terminal is read from C(/proc) (Linux controllers). Where there is no C(/proc), a question is assumed to be
    possible (C(ansible.builtin.pause) then decides, as without this lookup).
'''

EXAMPLES = r'''
- name: Refuse unless answered beforehand when nobody can answer
  ansible.builtin.assert:
    that: my_confirm | bool or not lookup('linkops.cluster_linking.noninteractive')
    fail_msg: "Cannot ask ({{ lookup('linkops.cluster_linking.noninteractive') }}): set my_confirm=true"
'''

RETURN = r'''
_raw:
  description: One item; empty when a question can be asked, else why not (for example C(an AAP job (awx_job_id is set))).
  type: list
  elements: str
'''

import os
import stat

from ansible.plugins.lookup import LookupBase

# ansible-runner sets these for the playbook it runs (its event callback and artifact directory).
RUNNER_ENV = ('AWX_ISOLATED_DATA_DIR',)
RUNNER_CALLBACK = 'awx_display'


def _controller_pid():
    """The ansible-playbook process: a task's templates are rendered in a worker forked from it, whose own
    standard input is /dev/null."""
    try:
        from ansible.executor.process import worker
    except ImportError:  # pragma: no cover - always there in ansible-core
        return os.getpid()
    return os.getppid() if getattr(worker, 'current_worker', None) is not None else os.getpid()


def stdin_is_foreground_terminal(pid):
    """True when the standard input of ``pid`` is its controlling terminal and its process group is that
    terminal's foreground group (what ansible.builtin.pause needs to read an answer); None without /proc."""
    try:
        st = os.stat('/proc/%d/fd/0' % pid)
        with open('/proc/%d/stat' % pid) as f:
            # after "pid (comm)": state ppid pgrp session tty_nr tpgid ...
            fields = f.read().rsplit(')', 1)[1].split()
    except (OSError, IndexError):
        return None
    pgrp, tty_nr, tpgid = int(fields[2]), int(fields[4]), int(fields[5])
    if not stat.S_ISCHR(st.st_mode) or tty_nr == 0:
        return False
    tty_major, tty_minor = (tty_nr >> 8) & 0xfff, (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00)
    return (os.major(st.st_rdev), os.minor(st.st_rdev)) == (tty_major, tty_minor) and tpgid == pgrp


def reason(variables, environ=None, pid=None):
    """Why nobody can answer a question in this run; '' when one can."""
    environ = os.environ if environ is None else environ
    for name in ('awx_job_id', 'tower_job_id'):
        if (variables or {}).get(name) not in (None, ''):
            return 'an AAP job (%s is set)' % name
    if any(environ.get(name) for name in RUNNER_ENV) or environ.get('ANSIBLE_STDOUT_CALLBACK') == RUNNER_CALLBACK:
        return 'run by ansible-runner: nobody types into its terminal'
    if stdin_is_foreground_terminal(_controller_pid() if pid is None else pid) is False:
        return 'no terminal: the standard input of ansible-playbook is not a terminal in the foreground'
    return ''


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        return [reason(variables)]
