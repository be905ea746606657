# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failures modules report: TaskFailure, and ApiError for a failed backend call (REST or CLI)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class TaskFailure(Exception):
    """A failure a module reports with fail_json: the message plus result fields (to_result())."""

    def __init__(self, message, **result):
        super(TaskFailure, self).__init__(message)
        self.message = message
        self.result = result

    def to_result(self):
        return dict(self.result)


class ApiError(TaskFailure):
    """A failed call of a backend: an HTTP request (RestError) or a CP tool command (CliError).

    ``status`` is the HTTP status, or the one the CLI backend infers (404 for "not found").
    """

    def __init__(self, message, status=None, error_code=None, **result):
        result.update(status=status, error_code=error_code)
        super(ApiError, self).__init__(message, **result)
        self.status = status
        self.error_code = error_code
