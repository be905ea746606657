# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CLI backend: the Confluent Platform tools on the managed host, answering in REST v3 shapes.

Every call is one command built by ``_cli_commands`` (``kafka-cluster-links``, ``kafka-mirrors``,
``kafka-configs --cluster-link``, ``kafka-topics``) and run here with an argv list, never a shell.
Link configs and filter documents, which can hold secrets, go to the tools in private temporary
files (mode 0600) that are removed when the command ends, and known secrets are redacted from error
messages. Failed commands are run again while a retry can help, and a write whose answer was lost
raises ``CliAnswerLost``. ``_cli_output`` turns the printed lines into the shapes of Kafka REST v3, so
the reconcilers do not know which backend they talk to.

What the tools do not print cannot be returned: link tasks (``include_tasks``) come back as an
empty list and the backend warns that they could not be checked.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile
import threading

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _cli_commands as commands
from ansible_collections.linkops.cluster_linking.plugins.module_utils._backend import Backend
from ansible_collections.linkops.cluster_linking.plugins.module_utils._cli_output import (
    describe_unknown,
    error_line,
    failure_kind,
    infer_status,
    parse_batch,
    parse_config_entries,
    parse_links,
    parse_mirrors,
    parse_tasks,
    says_not_found,
    topic_list,
)
from ansible_collections.linkops.cluster_linking.plugins.module_utils._errors import ApiError
from ansible_collections.linkops.cluster_linking.plugins.module_utils._link_configs import is_sensitive
from ansible_collections.linkops.cluster_linking.plugins.module_utils._retry import RetryPolicy


class CliError(ApiError):
    """A CP tool command that failed: its error line, the HTTP-like status inferred from it, the exit code.

    ``command`` names the tool and action only (e.g. ``kafka-mirrors --promote``), never argument values.
    """

    def __init__(self, message, status=None, error_code=None, command=None, rc=None):
        super(CliError, self).__init__(message, status=status, error_code=error_code, command=command, rc=rc)
        self.command = command
        self.rc = rc


class CliAnswerLost(CliError):
    """A write command that timed out or lost its connection: whether the server acted is not known."""

    outcome_unknown = True


class CliBackend(Backend):
    """The CP tools, run on the managed host.

    run(argv) -> (rc, stdout, stderr) runs one command (AnsibleModule.run_command in a module);
    which(tool) -> path or None finds a tool; tmpdir is where the private files go; warn(text) reports
    what could not be checked. Use from_module() in a module.
    """

    name = 'cli'

    def __init__(self, bootstrap_server, run, which, command_config=None, cli_path=None, timeout=None,
                 cluster_id=None, tmpdir=None, warn=None):
        self.bootstrap_server = bootstrap_server
        self.command_config = command_config
        self.cli_path = cli_path
        self.timeout = timeout
        self._run = run
        self._which = which
        self._tmpdir = tmpdir
        self._warn = warn or (lambda text: None)
        self._cluster_id = cluster_id
        self._tools = {}
        self._count = 0
        self._count_lock = threading.Lock()  # mirror_topic runs its creates on several threads
        self._warned = set()
        self._secrets = set()
        self._no_describe = False
        self.retry_policy = RetryPolicy()

    @classmethod
    def from_module(cls, module, bootstrap_server, command_config=None, cli_path=None, timeout=None,
                    cluster_id=None):
        def run(argv):
            return module.run_command(argv, expand_user_and_vars=False)

        def which(tool):
            return module.get_bin_path(tool, required=False, opt_dirs=[cli_path] if cli_path else None)

        return cls(bootstrap_server, run, which, command_config=command_config, cli_path=cli_path,
                   timeout=timeout, cluster_id=cluster_id, tmpdir=module.tmpdir, warn=module.warn)

    # -- Backend ------------------------------------------------------------------------------

    @property
    def cluster_id(self):
        """The cluster_id option, or the local cluster ID a link listing printed."""
        if self._cluster_id is None:
            links, local = parse_links(self._command(commands.list_links(include_topics=False)))
            if local is None:
                raise CliError('The ID of the cluster at %s cannot be read: kafka-cluster-links --list prints it '
                               'only for an existing link, and it printed %s. Set cluster_id.'
                               % (self.bootstrap_server, 'no link' if not links else 'no local cluster ID'))
            self._cluster_id = local
        return self._cluster_id

    @property
    def call_count(self):
        return self._count

    def get_link(self, name, include_tasks=False):
        try:
            output = self._describe_link(name)
        except CliError as exc:
            if exc.status == 404:
                return None
            raise
        links, local = parse_links(output)
        self._cluster_id = self._cluster_id or local
        link = next((item for item in links if item['link_name'] == name), None)
        if link is None:
            if says_not_found(output) or not output.strip():
                return None
            raise CliError('kafka-cluster-links --describe printed no line for link %s: %s'
                           % (name, output.strip()[:300]), command='kafka-cluster-links --describe')
        if include_tasks:
            tasks = parse_tasks(output)
            if tasks is None:
                tasks = []
                self._warn_once('tasks', 'kafka-cluster-links does not print link tasks, so the tasks of link %s '
                                '(AclSync, AutoCreateMirror, ConsumerOffsetSync, TopicConfigsSync) could not be '
                                'checked; use api=rest to check them.' % name)
            link['tasks'] = tasks
        return link

    def _describe_link(self, name):
        """``--describe --link`` (CP 7.4+); older tools have no --describe: ``--list --link`` then."""
        if not self._no_describe:
            try:
                return self._command(commands.describe_link(name))
            except CliError as exc:
                if not describe_unknown(exc.message):
                    raise
                self._no_describe = True
        return self._command(commands.list_link(name))

    def get_link_configs(self, name):
        output = self._command(commands.describe_link_configs(name))
        return parse_config_entries(output, link_name=name, cluster_id=self._cluster_id)

    def create_link(self, name, cluster_ids, configs, validate_only=False):
        self._remember_secrets(configs)
        self._command(commands.create_link(name, cluster_ids, configs, validate_only))

    def alter_link_configs(self, name, set_configs, delete_names=(), validate_only=False):
        if validate_only:
            raise CliError('kafka-configs cannot check a change of link configs without making it, so validate_only '
                           'is not available with api=cli for an existing link; use api=rest, or check mode.',
                           status=501, command='kafka-configs --alter')
        if set_configs:
            self._remember_secrets(set_configs)
        command = commands.alter_link_configs(name, set_configs, delete_names)
        if command is not None:
            self._command(command)

    def delete_link(self, name, force=False, validate_only=False):
        self._command(commands.delete_link(name, force, validate_only))

    def list_links(self):
        links, local = parse_links(self._command(commands.list_links()))
        self._cluster_id = self._cluster_id or local
        return links

    def list_all_mirrors(self):
        output = self._command(commands.describe_mirrors())
        return [mirror for dummy, mirror in sorted(parse_mirrors(output).items())]

    def list_mirrors(self, link_name):
        mirrors = parse_mirrors(self._command(commands.describe_mirrors(link_name=link_name)))
        mirrors = dict((n, m) for n, m in mirrors.items() if m.get('link_name') in (None, link_name))
        for mirror in mirrors.values():
            mirror['link_name'] = link_name
        if not mirrors and self.get_link(link_name) is None:
            # "No mirror topics found." for a link that does not exist: the second command says which.
            raise CliError('Cluster link %s does not exist.' % link_name, status=404,
                           command='kafka-mirrors --describe')
        return mirrors

    def list_topic_names(self):
        return topic_list(self._command(commands.list_topics()))

    def create_mirror(self, link_name, mirror_topic_name, source_topic_name=None, configs=None):
        self._command(commands.create_mirror(link_name, mirror_topic_name, source_topic_name, configs))

    def get_mirror(self, link_name, mirror_topic_name, include_state_transition_errors=False):
        try:
            output = self._command(commands.describe_mirrors(topic_name=mirror_topic_name))
        except CliError as exc:
            if exc.status == 404:
                return None
            raise
        mirror = parse_mirrors(output).get(mirror_topic_name)
        if mirror is None or mirror.get('link_name') not in (None, link_name):
            return None
        mirror['link_name'] = link_name
        if include_state_transition_errors:
            mirror['mirror_state_transition_errors'] = []
            self._warn_once('transition-errors', 'kafka-mirrors does not print the state transition errors of a '
                            'mirror topic, so they could not be read; use api=rest to see them.')
        return mirror

    def delete_topic(self, topic_name):
        self._command(commands.delete_topic(topic_name))

    def alter_mirrors(self, link_name, action, topic_names):
        names = list(topic_names)
        command = commands.mirror_action(link_name, action, names)
        if command is None:
            raise CliError('The CLI backend has no kafka-mirrors command for the mirror action %s.' % action)
        if not names:
            return {}, {}
        rc, out, err = self._attempts(command, answered=lambda o, e: any(parse_batch(o + '\n' + e, names)))
        done, failed = parse_batch(out + '\n' + err, names)
        if rc != 0 and not done and not failed:
            raise self._error(command.what, rc, out, err)
        succeeded = {}
        for name in names:
            if name in done:
                # the tools print no per-partition lags or truncation data with the action
                succeeded[name] = {'mirror_lags': [], 'messages_truncated': done[name].get('messages_truncated'),
                                   'partition_level_truncation_data': []}
            elif name not in failed:
                failed[name] = 'kafka-mirrors printed no result for this topic'
        return succeeded, failed

    # -- running the tools --------------------------------------------------------------------

    def tool(self, tool):
        """Full path of a tool; CliError naming cli_path when it cannot be found."""
        if tool not in self._tools:
            path = self._which(tool)
            if not path and not tool.endswith('.sh'):
                path = self._which(tool + '.sh')
            if not path:
                where = 'cli_path %s or PATH' % self.cli_path if self.cli_path else 'PATH (cli_path is not set)'
                raise CliError('%s not found in %s; install the Confluent Platform tools on this host or set cli_path '
                               'to the directory that holds them.' % (tool, where), command=tool)
            self._tools[tool] = path
        return self._tools[tool]

    def argv(self, tool, args, files=()):
        """The argv of one command; files: [(flag, path)] already written."""
        path = self.tool(tool)
        limiter = None
        if self.timeout:
            limiter = self._tools.get('timeout') if 'timeout' in self._tools else self._which('timeout')
            self._tools['timeout'] = limiter
        return commands.argv(path, self.bootstrap_server, args, files, command_config=self.command_config,
                             limiter=limiter, timeout=self.timeout)

    def _command(self, command):
        """Run a command (a ``_cli_commands.Command``); its output, or CliError when it failed."""
        rc, out, err = self._attempts(command)
        if rc != 0:
            raise self._error(command.what, rc, out, err)
        return out

    def _attempts(self, command, answered=None):
        """Run a command, and again while it fails in a way a retry can fix; the last (rc, out, err).

        answered(out, err): the output holds an answer although the exit code is not 0 (per-topic results).
        A write that timed out or lost its connection raises CliAnswerLost: the caller describes the object.
        """
        what = command.what
        write = not command.is_read
        attempt = 0
        while True:
            try:
                rc, out, err = self._execute(command)
            except CliError as exc:
                if exc.status != 504:  # 504: stopped at cli_timeout
                    raise
                if write:
                    raise CliAnswerLost('%s The server may have acted.' % exc.message, status=504, command=what,
                                        rc=exc.rc)
                raise
            if rc == 0 or (answered is not None and answered(out, err)):
                return rc, out, err
            message = self._redact(error_line(out, err))
            # a tool that died of a signal (rc < 0, e.g. SIGSEGV) lost its answer, as a dropped connection does
            kind = 'dropped' if rc < 0 else failure_kind(message)
            if write and kind in ('dropped', 'timed_out'):
                raise CliAnswerLost('%s failed (exit code %s): %s; the server may have acted.' % (what, rc, message),
                                    status=infer_status(message), command=what, rc=rc)
            if kind == 'not_acted' or (kind == 'dropped' and not write):
                if self.retry_policy.wait(attempt, what, message[:200]) is None:
                    attempt += 1
                    continue
            return rc, out, err

    def _execute(self, command):
        written = []
        try:
            for flag, content in command.files:
                written.append((flag, self._private_file(content)))
            argv = self.argv(command.tool, command.args, written)
            with self._count_lock:
                self._count += 1
            rc, out, err = self._run(argv)
        finally:
            for dummy, path in written:
                try:
                    os.remove(path)
                except OSError:
                    pass
        if self.timeout and rc in (124, 137) and argv[0] == self._tools.get('timeout'):
            raise CliError('%s did not finish within cli_timeout (%s seconds).' % (command.what, self.timeout),
                           status=504, command=command.what, rc=rc)
        return rc, out or '', err or ''

    def _private_file(self, content):
        """A temporary file only the user can read (0600), holding content; the caller removes it."""
        fd, path = tempfile.mkstemp(prefix='linkops-', suffix='.properties', dir=self._tmpdir)
        try:
            os.chmod(path, 0o600)
            with os.fdopen(fd, 'w') as handle:
                handle.write(content)
        except Exception:
            os.remove(path)
            raise
        return path

    def _error(self, what, rc, out, err):
        message = self._redact(error_line(out, err))
        return CliError('%s failed (exit code %s): %s' % (what, rc, message), status=infer_status(message),
                        command=what, rc=rc)

    def _remember_secrets(self, configs):
        for name, value in configs.items():
            if value and is_sensitive(name):
                self._secrets.add(str(value))

    def _redact(self, text):
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, '********')
        return text

    def _warn_once(self, key, text):
        if key not in self._warned:
            self._warned.add(key)
            self._warn(text)
