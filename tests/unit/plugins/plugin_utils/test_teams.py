"""Environments and teams (plugin_utils/teams.py): what the inventory asks for, checked, and
the objects, bindings and prune selectors made from it."""

import pytest
import yaml

from ansible_collections.kubebin.cluster.plugins.plugin_utils import teams as t

QUOTA = {"pods": "100", "limits.cpu": "16"}
LIMITS = {"default": {"cpu": "1", "memory": "1Gi"}}
TEAMS = [
    {
        "name": "payments",
        "access": {"dev": "edit", "test": "edit", "stage": "view", "prod": "none"},
    },
    {
        "name": "search",
        "access": {"dev": "admin"},
        "namespaces": {"search-tools": "edit"},
        "generation": 3,
    },
]


def envs():
    return t.environments(None, QUOTA, LIMITS)


def test_default_environments_with_their_quota_and_labels():
    e = envs()
    assert list(e) == ["dev", "test", "stage", "prod"]
    assert e["prod"]["namespace"] == "prod" and e["prod"]["quota"] == QUOTA
    assert e["dev"]["labels"]["kubebin.io/environment"] == "dev"
    own = t.environments([{"name": "qa", "namespace": "team-qa", "quota": {}}], QUOTA, LIMITS)
    assert own["qa"]["namespace"] == "team-qa" and own["qa"]["quota"] == {}


def test_teams_get_their_group_and_bindings_none_means_no_binding():
    m = t.teams(TEAMS, envs())
    pay = m["payments"]
    assert pay["cn"] == "team:payments" and pay["group"] == "kubebin:team:payments:1"
    assert pay["bindings"] == [
        {"namespace": "dev", "role": "edit"},
        {"namespace": "stage", "role": "view"},
        {"namespace": "test", "role": "edit"},
    ]
    assert "prod" not in pay["namespaces"]
    assert m["search"]["group"] == "kubebin:team:search:3"
    assert {"namespace": "search-tools", "role": "edit"} in m["search"]["bindings"]


@pytest.mark.parametrize(
    ("entries", "needle"),
    [
        ([{"name": "Payments"}], "cluster_teams[0].name: 'Payments' is not a valid name"),
        (
            [{"name": "a", "access": {"qa": "edit"}}],
            "qa is not an environment of cluster_environments",
        ),
        (
            [{"name": "a", "access": {"dev": "owner"}}],
            "cluster_teams[0].access.dev: 'owner' is not one of",
        ),
        ([{"name": "a"}, {"name": "a"}], "team a appears twice"),
        ([{"name": "a", "namespaces": {"dev": "edit"}}], "give its access in access instead"),
        (
            [{"name": "a", "generation": 0}],
            "cluster_teams[0].generation: 0 is not a positive integer",
        ),
        ([{"name": "a", "acess": {}}], "cluster_teams[0]: unknown keys ['acess']"),
    ],
)
def test_team_mistakes_name_the_setting(entries, needle):
    with pytest.raises(t.TeamsError) as err:
        t.teams(entries, envs())
    assert needle in str(err.value)


def test_environment_mistakes_name_the_setting():
    with pytest.raises(t.TeamsError, match=r"cluster_environments\[1\]: environment dev"):
        t.environments(["dev", "dev"])
    with pytest.raises(t.TeamsError, match=r"cluster_environments\[0\].name"):
        t.environments(["Dev"])


def test_objects_and_manifest():
    e, m = envs(), t.teams(TEAMS, envs())
    objs = t.objects(e, m)
    kinds = [(o["kind"], o["metadata"].get("namespace", o["metadata"]["name"])) for o in objs]
    assert ("Namespace", "search-tools") in kinds
    assert ("ResourceQuota", "prod") in kinds and ("LimitRange", "dev") in kinds
    binding = next(
        o for o in objs if o["kind"] == "RoleBinding" and o["metadata"]["namespace"] == "stage"
    )
    assert binding["metadata"]["name"] == "team-payments-view"
    assert binding["roleRef"]["name"] == "view"
    assert binding["subjects"] == [
        {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Group",
            "name": "kubebin:team:payments:1",
        }
    ]
    assert binding["metadata"]["labels"]["kubebin.io/binding"] == "payments.view"
    docs = list(yaml.safe_load_all(t.manifest(e, m)))
    assert docs == objs
    limit = next(o for o in objs if o["kind"] == "LimitRange")["spec"]["limits"][0]
    assert limit == {"type": "Container", "default": {"cpu": "1", "memory": "1Gi"}}


def test_prune_selectors_keep_what_the_inventory_has():
    e, m = envs(), t.teams(TEAMS, envs())
    prune = {p["namespace"]: p["selector"] for p in t.stale_bindings(e, m)}
    assert prune["dev"] == (
        "kubebin.io/managed-by=kubebin-teams,kubebin.io/binding notin (payments.edit,search.admin)"
    )
    # prod: no team has access - every binding the collection made there goes
    assert prune["prod"] == "kubebin.io/managed-by=kubebin-teams"
    assert prune["search-tools"].endswith("notin (search.edit)")
