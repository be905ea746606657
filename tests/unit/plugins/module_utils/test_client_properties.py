"""JAAS lines (module_utils/_client_properties.py) and the properties writer (_properties.py)."""

from __future__ import annotations

import pytest

from ansible_collections.linkops.cluster_linking.plugins.module_utils._client_properties import (
    ClientPropertiesError, sasl_jaas_config)
from ansible_collections.linkops.cluster_linking.plugins.module_utils._properties import (
    parse_properties, to_java_properties)


def test_plain_and_scram_jaas_lines_quote_and_escape():
    assert sasl_jaas_config("PLAIN", "app", "s3cret") == (
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="app" password="s3cret";')
    line = sasl_jaas_config("scram-sha-512", 'a"b', 'p\\"x')
    assert line == ('org.apache.kafka.common.security.scram.ScramLoginModule required '
                    'username="a\\"b" password="p\\\\\\"x";')


@pytest.mark.parametrize("mechanism", ["OAUTHBEARER", "GSSAPI"])
def test_jaas_line_for_other_mechanisms_is_refused_naming_the_fix(mechanism):
    with pytest.raises(ClientPropertiesError, match="give the whole sasl.jaas.config line"):
        sasl_jaas_config(mechanism, "u", "p")


def test_jaas_line_needs_both_parts():
    with pytest.raises(ClientPropertiesError, match="both a username and a password"):
        sasl_jaas_config("PLAIN", "u", None)


def test_properties_are_sorted_typed_and_skip_none():
    text = to_java_properties({"b": True, "a": ["x", "y"], "c": None, "d": 5})
    assert text == "a=x,y\nb=true\nd=5\n"
    assert to_java_properties({}) == ""


def test_properties_round_trip_through_a_java_reader():
    tricky = {
        "sasl.jaas.config": sasl_jaas_config("PLAIN", "us\\er", 'p"=:#!\\ w'),
        "a key=with:seps": " leading space and = inside",
        "multi": "line1\nline2\ttab",
        "unicode": "pässwörd",
        "#notacomment": "!bang",
    }
    # read back by the collection's own reader (_properties follows java.util.Properties.load)
    assert parse_properties(to_java_properties(tricky)) == tricky


def test_properties_refuse_a_non_dict_and_empty_keys():
    with pytest.raises(ClientPropertiesError, match="expected a dict"):
        to_java_properties(["a"])
    with pytest.raises(ClientPropertiesError, match="not a property name"):
        to_java_properties({" ": "x"})
