"""The kernel/OS rule catalogue and its evaluator."""

import re
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.kubebin.cluster.plugins.filter import kernel as kernel_filter
from ansible_collections.kubebin.cluster.plugins.plugin_utils import kernel_checks as kc
from ansible_collections.kubebin.cluster.plugins.plugin_utils import versions

CASES = yaml.safe_load((Path(__file__).parent / "kernel_rule_cases.yml").read_text())
CATALOGUE = kc.load_rules()
SPEC_IDS = [  # the catalogue, in its order (the spec's 35 rules, then those added since)
    "K8S-MNT-001", "K8S-MNT-002", "K8S-MNT-003", "K8S-KMEM-001", "K8S-KMEM-002",
    "K8S-INOTIFY-001", "K8S-INOTIFY-002", "K8S-DNS-001", "K8S-DNS-002", "K8S-DNS-003",
    "K8S-DNS-004", "K8S-DNS-005", "K8S-PROXY-001", "K8S-PROXY-002", "K8S-PROXY-003",
    "K8S-IPVS-001", "K8S-IPVS-002", "K8S-IPVS-003", "K8S-IPVS-004", "K8S-IPVS-005",
    "K8S-IPVS-006", "K8S-IPVS-007", "K8S-FLANNEL-001", "K8S-FLANNEL-002", "K8S-FLANNEL-003",
    "K8S-FLANNEL-004", "K8S-FLANNEL-005", "K8S-FLANNEL-006", "K8S-NET-001", "K8S-NFS-001",
    "K8S-NFS-002", "K8S-NFS-003", "K8S-NFS-004", "K8S-NFS-005", "K8S-SWAP-001",
    "K8S-SWAP-002", "K8S-BRNF-001", "K8S-BRNF-002", "K8S-FWD-001", "K8S-KTUN-001",
    "K8S-DTYPE-001", "K8S-SELINUX-001",
]  # fmt: skip


def fired(facts, rules=None):
    return [f["id"] for f in kc.kernel_findings(facts, rules)]


def test_catalogue_has_every_rule_of_the_spec_with_its_id():
    assert [r["id"] for r in CATALOGUE] == SPEC_IDS


def test_every_rule_is_complete():
    for rule in CATALOGUE:
        assert set(rule) >= kc.RULE_KEYS, rule["id"]
        assert rule["severity"] in kc.SEVERITIES
        for key in ("title", "symptom", "fix", "source"):
            assert str(rule[key]).strip(), (rule["id"], key)


def test_every_rule_has_cases_that_fire_and_cases_that_do_not():
    assert set(CASES) == set(SPEC_IDS)
    for rule_id, cases in CASES.items():
        assert cases.get("fires"), rule_id
        assert cases.get("quiet"), rule_id


@pytest.mark.parametrize(
    ("rule_id", "facts"),
    [(rid, facts) for rid, cases in CASES.items() for facts in cases["fires"]],
)
def test_rule_fires(rule_id, facts):
    assert rule_id in fired(facts)


@pytest.mark.parametrize(
    ("rule_id", "facts"),
    [(rid, facts) for rid, cases in CASES.items() for facts in cases["quiet"]],
)
def test_rule_stays_quiet(rule_id, facts):
    assert rule_id not in fired(facts)


def test_no_facts_no_findings():
    assert fired({}) == []


def test_findings_carry_the_documented_keys_most_severe_first():
    facts = {
        "kube_proxy_mode": "ipvs",
        "kube_version": "v1.10.13",
        "kernel": "6.1.0-13-amd64",
        "modules": [],
        "sysctl": {"fs.inotify.max_user_watches": "8192"},
        "kinds": ["node"],
    }
    findings = kc.kernel_findings(facts)
    assert [f["id"] for f in findings] == [
        "K8S-IPVS-002",
        "K8S-BRNF-001",
        "K8S-IPVS-001",
        "K8S-INOTIFY-001",
        "K8S-IPVS-006",
    ]
    keys = {"id", "severity", "title", "fix", "source", "fixed_by"}
    for f in findings:
        # runbook: the rules of the seed's incidents (here BRNF-001 and INOTIFY-001)
        assert set(f) in (keys, keys | {"runbook"}), f["id"]
    assert [f["id"] for f in findings if "runbook" in f] == ["K8S-BRNF-001", "K8S-INOTIFY-001"]


def test_the_seed_site_el7_3_host():
    # The seed's era: CentOS 7.3, kubelet 1.10, no nokmem, default inotify, docker 17.03.
    facts = {
        "os_family": "RedHat",
        "distribution_version": "7.3.1611",
        "kernel": "3.10.0-514.el7.x86_64",
        "cmdline": "BOOT_IMAGE=/vmlinuz-3.10.0-514.el7.x86_64 ro crashkernel=auto rhgb quiet",
        "sysctl": {"fs.inotify.max_user_watches": "8192", "fs.inotify.max_user_instances": "128"},
        "packages": {"docker": "17.03.2.ce-1.el7.centos", "iptables": "1.4.21-17.el7"},
        "kube_version": "v1.10.13",
        "kube_proxy_mode": "ipvs",
    }
    ids = fired(facts)
    for expected in ("K8S-KMEM-001", "K8S-MNT-002", "K8S-INOTIFY-001", "K8S-INOTIFY-002"):
        assert expected in ids
    assert "K8S-MNT-001" not in ids  # 7.3 has no may_detach_mounts at all


# --- the condition language ----------------------------------------------------------------


def rule(when, severity="LOW", rule_id="T-1"):
    return {
        "id": rule_id,
        "severity": severity,
        "title": "t",
        "symptom": "s",
        "fix": "f",
        "source": "test",
        "when": when,
    }


@pytest.mark.parametrize(
    ("when", "facts", "fires"),
    [
        ([{"fact": "a", "eq": "x"}], {"a": "x"}, True),
        ([{"fact": "a", "eq": "x"}], {}, False),  # absent input: unknown, never fires
        ([{"not": {"fact": "a", "eq": "x"}}], {}, False),  # not(unknown) is unknown
        ([{"not": {"fact": "a", "eq": "x"}}], {"a": "y"}, True),
        ([{"any": [{"fact": "a", "eq": "x"}, {"fact": "b", "eq": "y"}]}], {"b": "y"}, True),
        ([{"all": [{"fact": "a", "eq": "x"}, {"fact": "b", "eq": "y"}]}], {"b": "z"}, False),
        ([{"fact": "n", "lt": 10}], {"n": "9"}, True),
        ([{"fact": "n", "lt": 10}], {"n": "many"}, False),
        ([{"fact": "b", "eq": True}], {"b": True}, True),
        ([{"fact": "b", "eq": True}], {"b": "true"}, True),
        ([{"fact": "x.y", "eq": 1}], {"x": {"y": 1}}, True),
        ([{"sysctl": "k", "present": False}], {"sysctl": {}}, True),
        ([{"sysctl": "k", "present": False}], {}, False),  # sysctl not gathered at all
        ([{"member": {"of": "l", "item": "i"}, "present": True}], {"l": ["i"]}, True),
        ([{"arg": {"of": "args", "flag": "--f"}, "eq": "v"}], {"args": ["--f=v"]}, True),
        ([{"arg": {"of": "args", "flag": "--f"}, "eq": True}], {"args": ["--f"]}, True),
        ([{"fact": "v", "version_ge": "1.10"}], {"v": "v1.10.0"}, True),
        ([{"fact": "v", "version_ge": "1.10"}], {"v": "not-a-version"}, False),
        (
            [{"fact": "ip", "ip_in_network_of": "net"}],
            {"ip": "10.0.0.1", "net": "10.0.0.0/8"},
            True,
        ),
        ([{"fact": "l", "any_gt": 0}], {"l": [0, 3]}, True),
        ([{"fact": "l", "nonempty": True}], {"l": []}, False),
        ([{"fact": "s", "matches": "^a"}], {"s": "abc"}, True),
    ],
)
def test_condition_language(when, facts, fires):
    assert (fired(facts, [rule(when)]) == ["T-1"]) is fires


@pytest.mark.parametrize(
    ("bad", "needle"),
    [
        ([rule([{"fact": "a"}])], "exactly one operator"),
        ([rule([{"eq": 1}])], "no selector"),
        ([rule([{"fact": "a", "matches": "("}])], "bad regular expression"),
        ([rule([], rule_id="T-2")], "T-2: 'when' must be a non-empty list"),
        ([rule([{"fact": "a", "eq": 1}], severity="URGENT")], "severity 'URGENT'"),
        ([rule([{"fact": "a", "eq": 1}]), rule([{"fact": "a", "eq": 1}])], "appears twice"),
        ([{"id": "T-3", "severity": "LOW"}], "T-3: missing keys"),
        ({"rules": []}, "must be a list"),
        ([{**rule([{"fact": "a", "eq": 1}]), "fixed_by": "node_prep"}], "fixed_by must be a list"),
        ([{**rule([{"fact": "a", "eq": 1}]), "colour": "red"}], "unknown keys"),
        ([{**rule([{"fact": "a", "eq": 1}]), "applies_to": ["kubelet"]}], "applies_to must be"),
        ([{**rule([{"fact": "a", "eq": 1}]), "applies_to": []}], "applies_to must be"),
    ],
)
def test_malformed_rules_are_named(bad, needle):
    with pytest.raises(kc.RuleError, match=needle):
        kc.Catalogue(bad)


def test_rules_apply_by_what_the_host_is():
    node_rule = rule([{"fact": "a", "eq": 1}], rule_id="T-NODE")
    router_rule = {
        **rule([{"fact": "a", "eq": 1}], rule_id="T-ROUTER"),
        "applies_to": ["node", "router"],
    }
    cat = kc.Catalogue([node_rule, router_rule])

    def fired(facts):
        return [f["id"] for f in cat.evaluate(facts)]

    assert fired({"a": 1}) == ["T-NODE", "T-ROUTER"]  # kinds unknown: every rule
    assert fired({"a": 1, "kinds": ["node", "etcd"]}) == ["T-NODE", "T-ROUTER"]
    assert fired({"a": 1, "kinds": ["router"]}) == ["T-ROUTER"]
    assert fired({"a": 1, "kinds": ["dns"]}) == []
    assert fired({"a": 1, "kinds": []}) == []
    with pytest.raises(kc.RuleError, match="kinds must be a list"):
        cat.evaluate({"a": 1, "kinds": ["switch"]})


def test_the_catalogue_holds_the_office_dns_host_to_no_rule():
    facts = {
        "os_family": "RedHat",
        "kernel": "3.10.0-514.el7.x86_64",
        "sysctl": {"fs.may_detach_mounts": "0", "net.ipv4.ip_forward": "0"},
        "persisted_sysctls": [],
        "swap_mb": 2048,
        "kube_version": "1.10.13",
        "kinds": ["dns"],
    }
    assert kc.kernel_findings(facts) == []
    as_node = [f["id"] for f in kc.kernel_findings(dict(facts, kinds=["node"]))]
    assert "K8S-MNT-002" in as_node and "K8S-FWD-001" in as_node
    as_router = [f["id"] for f in kc.kernel_findings(dict(facts, kinds=["router"]))]
    assert as_router == ["K8S-FWD-001"]


def test_filter_wraps_errors():
    with pytest.raises(AnsibleFilterError, match="facts must be a mapping"):
        kernel_filter.kernel_findings(["not", "a", "dict"])
    with pytest.raises(AnsibleFilterError, match="kernel_findings"):
        kernel_filter.kernel_findings({}, [rule([{"fact": "a"}])])


def test_evaluate_many():
    cat = kc.Catalogue([rule([{"fact": "a", "eq": 1}])])
    assert cat.evaluate_many({"h1": {"a": 1}, "h2": {"a": 2}}) == {
        "h1": [
            {
                "id": "T-1",
                "severity": "LOW",
                "title": "t",
                "fix": "f",
                "source": "test",
                "fixed_by": [],
            }
        ],
        "h2": [],
    }


# --- versions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("3.10.0-693.el7.x86_64", "3.10.0-693", 1),
        ("3.10.0-514.26.2.el7.x86_64", "3.10.0-693", -1),
        ("3.10.0-1062.el7", "3.10.0-957.27.2.el7", 1),
        ("1.4.21-28.el7", "1.4.21-24.el7", 1),
        ("1.4.21-28.el7", "1.6.2", -1),
        ("v1.10.13", "1.10.13", 0),
        ("1.10.13", "1.9.7", 1),
        ("1.10", "1.10.0", -1),
        ("1:1.4.7-1+b2", "1.5.0", 1),  # an epoch outranks everything after it
        ("4.19.0-6-amd64", "4.19", 1),
        ("6.18.44-fc-v657", "4.19", 1),
        ("1.0~rc1", "1.0", -1),
        ("2.0a", "2.0", 1),
        ("17.03.2.ce", "17.09", -1),
    ],
)
def test_version_compare(left, right, expected):
    assert versions.compare(left, right) == expected
    older, newer = left, right
    assert versions.compare(newer, older) == -expected  # antisymmetric
    assert kernel_filter.version_compare(left, right) == expected


def test_version_errors():
    with pytest.raises(versions.VersionError, match="'abc' is not a version"):
        versions.compare("abc", "1.0")
    with pytest.raises(AnsibleFilterError, match="version_compare"):
        kernel_filter.version_compare("abc", "1.0")


def test_major_minor():
    assert versions.major_minor("v1.10.13") == "1.10"
    assert versions.major_minor("7.4.1708") == "7.4"


def test_triage():
    findings = kc.kernel_findings(
        {
            "kube_proxy_mode": "ipvs",
            "kube_version": "v1.10.13",
            "kernel": "6.1.0-13-amd64",
            "modules": ["br_netfilter", "nf_conntrack"],
            "packages": {},
            "sysctl": {"fs.inotify.max_user_watches": "8192"},
            "kinds": ["node"],
        }
    )
    t = kc.triage(findings, accepted={"K8S-IPVS-002": "known"}, fixing_layers=["node_prep"])
    ids = {k: [f["id"] for f in v] for k, v in t.items()}
    assert ids["accepted"] == ["K8S-IPVS-002"]
    assert "K8S-IPVS-003" in ids["fixed"]  # no ipset: node_prep installs it
    assert "K8S-PROXY-003" in ids["fixed"]
    assert ids["blocking"] == ["K8S-IPVS-001"]  # no module to load: nobody can fix that here
    assert "K8S-IPVS-006" in ids["advisory"]
    strict = kc.triage(findings, fixing_layers=[], allow_high=True)
    assert [f["id"] for f in strict["blocking"]] == ["K8S-IPVS-002"]
    with pytest.raises(AnsibleFilterError, match="kernel_triage"):
        kernel_filter.kernel_triage([{"no": "id"}])


def test_report_and_its_table_say_what_blocks_and_what_does_not():
    node_facts = {
        "os_family": "RedHat",
        "kernel": "3.10.0-514.el7.x86_64",
        "sysctl": {"net.ipv4.ip_forward": "0"},
        "persisted_sysctls": [],
        "kube_version": "1.10.13",
        "kinds": ["node"],
    }
    findings = kc.kernel_findings(node_facts)
    ids = [f["id"] for f in findings]
    assert "K8S-MNT-002" in ids and "K8S-FWD-001" in ids
    triage = kc.triage(findings, accepted={"K8S-MNT-002"}, fixing_layers=["node_prep"])
    results = {
        "node1": {
            "kernel": node_facts["kernel"],
            "kinds": ["node"],
            "fixing_layers": ["node_prep"],
            "facts": node_facts,
            "findings": findings,
            "triage": triage,
        },
        "dns1": {"kernel": "5.4.0", "kinds": ["dns"], "facts": {}, "findings": [], "triage": {}},
        "gone": None,
    }
    rep = kc.report(results, {"K8S-MNT-002": "kernel upgrade planned"})
    assert sorted(rep["hosts"]) == ["dns1", "gone", "node1"]
    node = rep["hosts"]["node1"]
    assert node["accepted"] == ["K8S-MNT-002"] and "K8S-FWD-001" in node["fixed"]
    assert node["blocking"] == [t["id"] for t in triage["blocking"]]
    lines = kc.report_table(rep)
    assert lines[0].split()[:5] == ["host", "kinds", "sev", "finding", "status"]
    by_id = {line.split()[3]: line for line in lines[1:-1] if line.startswith("node1")}
    assert "accepted: kernel upgrade planned" in by_id["K8S-MNT-002"]
    # Fixed by the layer that runs on this host (node_prep), not every layer that could.
    assert re.search(r"K8S-FWD-001 +fixed by node_prep  ", by_id["K8S-FWD-001"])
    for blocking in node["blocking"]:
        assert "BLOCKING" in by_id[blocking]
    assert any(line.startswith("dns1") and "no findings" in line for line in lines)
    assert lines[-1].startswith("3 host(s), %d blocking" % len(node["blocking"]))


def _slug(heading):
    """GitHub's anchor for a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_runbook_link_names_a_section_that_exists():
    root = Path(__file__).resolve().parents[4]
    rules = kc.load_rules()
    linked = [r for r in rules if r.get("runbook")]
    # The seed's incidents each have their section: mounts, kmem, inotify, kube-dns,
    # iptables-restore, flannel leases.
    for prefix in ("K8S-MNT-", "K8S-KMEM-", "K8S-INOTIFY-", "K8S-DNS-", "K8S-PROXY-"):
        assert all(r.get("runbook") for r in rules if r["id"].startswith(prefix)), prefix
    assert {r["id"] for r in linked} >= {"K8S-FLANNEL-001", "K8S-FLANNEL-002"}
    for rule in linked:
        path, anchor = rule["runbook"].split("#", 1)
        doc = root / path
        assert doc.is_file(), (rule["id"], path)
        anchors = {_slug(h) for h in re.findall(r"^#+ (.*)$", doc.read_text(), re.MULTILINE)}
        assert anchor in anchors, (rule["id"], anchor, sorted(anchors))


def test_a_finding_carries_its_runbook_into_the_table():
    facts = {"sysctl": {"fs.inotify.max_user_watches": "8192"}, "kinds": ["node"]}
    findings = kc.kernel_findings(facts)
    finding = next(f for f in findings if f["id"] == "K8S-INOTIFY-001")
    assert finding["runbook"] == "docs/runbooks/kernel-incidents.md#inotify-exhaustion"
    rep = kc.report({"n1": {"kinds": ["node"], "findings": findings, "triage": {}}})
    line = next(x for x in kc.report_table(rep) if "K8S-INOTIFY-001" in x)
    assert line.endswith("(runbook: docs/runbooks/kernel-incidents.md#inotify-exhaustion)")
