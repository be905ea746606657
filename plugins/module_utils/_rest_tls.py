# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS failures of a REST call, told in one line that names the option to fix.

tls_failure() looks at what open_url raised. It knows four cases:

* the TLS files could not be loaded (ssl.SSLError raised before any connection): ca_path, or
  client_cert/client_key, is not PEM of the right kind;
* the server's certificate was refused (ssl.SSLCertVerificationError): not valid for the host in
  rest_url, or signed by a CA that ca_path (or the system store) does not hold;
* the server refused the handshake (a TLS alert, or the connection closed during the handshake):
  it wants a client certificate (client_cert) or does not trust the one given;
* rest_url says https:// but the endpoint speaks plain HTTP.

In each case the server cannot have acted on the request, and no retry can help. The options are
named as the module calls them (``names``: e.g. migration_verify's destination_rest_ca_path).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import ssl

from ansible.module_utils.six.moves.urllib.parse import urlsplit

# ssl.SSLError reasons of a handshake the server broke off (the alert it sent, as OpenSSL names it)
_REFUSED = re.compile(r'ALERT|HANDSHAKE_FAILURE|CERTIFICATE_REQUIRED', re.I)


def _ssl_error(exc):
    """The ssl.SSLError behind exc (exc itself, or the reason of a URLError), or None."""
    for candidate in (exc, getattr(exc, 'reason', None)):
        if isinstance(candidate, ssl.SSLError):
            return candidate
    return None


def _detail(err):
    """'certificate verify failed: unable to get local issuer certificate' from an ssl.SSLError."""
    text = getattr(err, 'verify_message', None)
    if text:
        return 'certificate verify failed: %s' % text
    text = str(err.args[1] if len(err.args) > 1 else err)
    text = re.sub(r'^\[[^\]]*\]\s*', '', text)
    return re.sub(r'\s*\(_ssl\.c:\d+\)$', '', text).strip() or type(err).__name__


OPTION_NAMES = dict((name, name) for name in ('rest_url', 'ca_path', 'client_cert', 'client_key', 'validate_certs'))


def prefixed_names(prefix):
    """The option names of a module whose REST options are <prefix>rest_url, <prefix>rest_ca_path, ..."""
    return dict((name, prefix + (name if name == 'rest_url' else 'rest_' + name)) for name in OPTION_NAMES)


def _load_failure(err, ca_path, client_cert, client_key, n):
    if ca_path:
        try:
            ssl.create_default_context(cafile=ca_path)
        except (ssl.SSLError, OSError) as exc:
            return ("%s: %s holds no PEM CA certificate (%s); give the PEM file of the CA that signs the REST "
                    "endpoint's certificate." % (n['ca_path'], ca_path, _detail(exc)))
    if client_cert:
        return ('%s/%s: %s and %s are not a PEM client certificate and its private key (%s); give the certificate '
                'and the key it was issued for.' % (n['client_cert'], n['client_key'], client_cert,
                                                    client_key or client_cert, _detail(err)))
    return 'The TLS settings of the REST client could not be loaded: %s.' % _detail(err)


def tls_failure(exc, base_url, ca_path=None, client_cert=None, client_key=None, names=None):
    """A one-line message for a TLS failure of a request to base_url (see the module docstring), or
    None when exc is no such failure. open_url raises an ssl.SSLError of the connection as the reason
    of a URLError, or by itself when it comes with the answer (a TLS 1.3 server refuses a client
    certificate after the client's side of the handshake); one raised by itself that is none of
    those is a TLS file that could not be loaded."""
    n = names or OPTION_NAMES
    err = _ssl_error(exc)
    if err is None:
        return None
    where = 'the REST endpoint %s (%s)' % (base_url, n['rest_url'])
    if isinstance(err, ssl.SSLCertVerificationError):
        detail = _detail(err)
        if 'mismatch' in detail.lower():
            return ('The TLS certificate of %s is not valid for the host %s (%s); put a host name or address in '
                    '%s that the certificate lists (its subject alternative names).'
                    % (where, urlsplit(base_url).hostname, detail, n['rest_url']))
        if ca_path:
            fix = '%s %s does not hold the CA that signed it; give that CA\'s PEM file' % (n['ca_path'], ca_path)
        else:
            fix = 'set %s to the PEM file of the CA that signed it' % n['ca_path']
        return ('The TLS certificate of %s is not trusted (%s); %s, or set %s=false to skip the check '
                '(rehearsals only).' % (where, detail, fix, n['validate_certs']))
    reason = str(getattr(err, 'reason', None) or '')
    if 'WRONG_VERSION_NUMBER' in reason.upper():
        return ('%s does not answer TLS (%s); it serves plain HTTP: use an http:// %s.'
                % (where[0].upper() + where[1:], _detail(err), n['rest_url']))
    if isinstance(err, ssl.SSLEOFError) or _REFUSED.search(reason):
        if client_cert:
            return ('%s refused the TLS handshake (%s): it does not accept %s %s; use a client certificate '
                    'signed by a CA the server trusts.' % (where[0].upper() + where[1:], _detail(err),
                                                           n['client_cert'], client_cert))
        return ('%s refused the TLS handshake (%s); if it requires a client certificate (mutual TLS), set %s '
                'and %s.' % (where[0].upper() + where[1:], _detail(err), n['client_cert'], n['client_key']))
    if err is exc:   # raised by itself, not as a URLError: the context could not be built
        return _load_failure(err, ca_path, client_cert, client_key, n)
    return None
