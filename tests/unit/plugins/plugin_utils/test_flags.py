"""plugin_utils.flags: a component's flags from the role's, the version table's and the
inventory's layers (the merge_flags filter)."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kubebin.cluster.plugins.filter.flags import merge_flags as merge_filter
from ansible_collections.kubebin.cluster.plugins.plugin_utils.flags import FlagsError, merge_flags


def test_later_layers_override_and_null_removes():
    role = {"v": 2, "node-ip": "10.0.0.5", "allow-privileged": "true"}
    table = {"feature-gates": "A=true", "v": 3}
    site = {"allow-privileged": None, "max-pods": 50}
    assert merge_flags(role, table, site) == {
        "v": 3,
        "node-ip": "10.0.0.5",
        "feature-gates": "A=true",
        "max-pods": 50,
    }


def test_a_null_in_the_role_layer_is_dropped_and_a_later_layer_can_set_it():
    assert merge_flags({"a": None, "b": 1}) == {"b": 1}
    assert merge_flags({"a": None}, {"a": "x"}) == {"a": "x"}


def test_missing_layers_are_empty_and_inputs_are_not_changed():
    role = {"v": 2}
    assert merge_flags(role, None, {}) == {"v": 2}
    merge_flags(role, {"v": None})
    assert role == {"v": 2}


@pytest.mark.parametrize("layer", [["--v=4"], "v=4", 4])
def test_a_layer_that_is_not_a_mapping_is_named(layer):
    with pytest.raises(FlagsError, match=r"layer 1 .* not a mapping.*extra_flags"):
        merge_flags({"v": 2}, layer)


@pytest.mark.parametrize("name", ["--v", "", 3])
def test_flag_names_are_given_without_dashes(name):
    with pytest.raises(FlagsError, match="without leading dashes"):
        merge_flags({"v": 2}, {name: 1})


def test_the_filter_names_itself():
    with pytest.raises(AnsibleFilterError, match=r"kubebin\.cluster\.merge_flags: layer 1"):
        merge_filter({"v": 2}, ["x"])
