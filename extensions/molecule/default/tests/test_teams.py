"""Environments and teams against the lab's real apiserver (roles cluster, pki, teams).

Each team's kubeconfig (pki_team_kubeconfig_dir, written on the controller) is used from the
master with the cluster's own kubectl: alpha may edit in dev, may not touch prod, cannot read
beta's Secrets there; a team removed from the inventory loses its bindings; raising a team's
generation revokes its old certificate. Runs last on the default scenario's cluster.
"""

import base64
import json
import os
import stat
from pathlib import Path

import pytest
import yaml
from lab import get_host as host
from lab import playbook

MASTER = "kb-cl-m1"
TEAMS = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp")) / "teams"
ADMIN = "kubectl --kubeconfig /etc/kubernetes/admin.conf "
ENVIRONMENTS = ["dev", "test", "stage", "prod"]


def create_pod(master, kubectl, **spec):
    """kubectl create of a pod of the test image with SPEC's extra pod spec fields."""
    container = {"name": "c", "image": "kubebin-test/web:1", "imagePullPolicy": "Never"}
    container.update(spec.pop("container", {}))
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": spec.pop("name", "pod-check")},
        "spec": {"containers": [container], **spec},
    }
    encoded = base64.b64encode(json.dumps(pod).encode()).decode()
    return master.run(f"echo {encoded} | base64 -d | {kubectl} --context dev create -f -")


@pytest.fixture(scope="module")
def master():
    return host(MASTER)


def install(master, team, path=None):
    """The team's kubeconfig from the controller onto the master; the kubectl prefix using it."""
    text = (path or TEAMS / f"{team}.conf").read_bytes()
    dest = f"/root/{team}-{abs(hash(text)) % 10**8}.conf"
    encoded = base64.b64encode(text).decode()
    out = master.run(f"echo {encoded} | base64 -d > {dest} && chmod 600 {dest}")
    assert out.rc == 0, out.stderr
    return f"kubectl --kubeconfig {dest} "


def test_namespaces_have_their_quota_limits_and_label(master):
    for env in ENVIRONMENTS:
        ns = json.loads(master.check_output(ADMIN + f"get namespace {env} -o json"))
        assert ns["metadata"]["labels"]["kubebin.io/environment"] == env
        quota = json.loads(
            master.check_output(ADMIN + f"-n {env} get resourcequota environment -o json")
        )
        assert quota["spec"]["hard"]["pods"] == "100"
        limits = json.loads(
            master.check_output(ADMIN + f"-n {env} get limitrange environment -o json")
        )
        assert limits["spec"]["limits"][0]["default"]["memory"] == "1Gi"


def test_team_kubeconfig_is_private_and_has_a_context_per_namespace():
    path = TEAMS / "alpha.conf"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(TEAMS.stat().st_mode) == 0o700
    conf = yaml.safe_load(path.read_text())
    assert [c["name"] for c in conf["contexts"]] == ["dev", "stage", "test"]
    assert conf["current-context"] == "dev"
    assert conf["users"][0]["user"]["client-certificate-data"]  # embedded


def test_alpha_edits_dev_not_prod_and_cannot_read_betas_secrets(master):
    alpha = install(master, "alpha")
    created = master.run(
        alpha + "--context dev create deployment teams-web --image=kubebin-test/web:1"
    )
    assert created.rc == 0, created.stderr
    master.check_output(alpha + "--context dev delete deployment teams-web")
    refused = master.run(alpha + "-n prod create deployment teams-web --image=kubebin-test/web:1")
    assert refused.rc != 0 and "forbidden" in refused.stderr.lower(), refused.stderr
    master.check_output(
        ADMIN + "-n prod create secret generic beta-db --from-literal=password=s3cret"
    )
    try:
        secret = master.run(alpha + "-n prod get secret beta-db -o yaml")
        assert secret.rc != 0 and "forbidden" in secret.stderr.lower(), secret.stdout
        assert "s3cret" not in secret.stdout and "czNjcmV0" not in secret.stdout
        beta = install(master, "beta")
        assert master.run(beta + "-n prod get secret beta-db").rc == 0
        view = master.run(alpha + "-n stage create deployment teams-web --image=kubebin-test/web:1")
        assert view.rc != 0 and "forbidden" in view.stderr.lower()  # view only in stage
        assert master.run(alpha + "-n stage get deployments").rc == 0
    finally:
        master.run(ADMIN + "-n prod delete secret beta-db")


def test_a_team_removed_from_the_inventory_loses_its_bindings(master):
    alpha = install(master, "alpha")
    only_beta = json.dumps(
        {"cluster_teams": [{"name": "beta", "access": {"dev": "edit", "prod": "edit"}}]}
    )
    playbook("teams.yml", "-e", only_beta)
    bindings = master.check_output(
        ADMIN + "get rolebindings --all-namespaces -l kubebin.io/team=alpha -o name"
    )
    assert bindings == ""
    refused = master.run(alpha + "--context dev get pods")
    assert refused.rc != 0 and "forbidden" in refused.stderr.lower()
    playbook("teams.yml")  # the inventory's teams again
    assert master.run(alpha + "--context dev get pods").rc == 0


def test_raising_a_generation_revokes_the_old_certificate(master):
    old = install(master, "alpha")
    old_copy = TEAMS.parent / "alpha-generation-1.conf"
    old_copy.write_bytes((TEAMS / "alpha.conf").read_bytes())
    teams = {
        "cluster_teams": [
            {
                "name": "alpha",
                "access": {"dev": "edit", "test": "edit", "stage": "view"},
                "generation": 2,
            },
            {"name": "beta", "access": {"dev": "edit", "prod": "edit"}},
        ]
    }
    playbook("pki.yml", "-e", json.dumps(teams))
    playbook("teams.yml", "-e", json.dumps(teams))
    new = install(master, "alpha")
    assert new != old
    assert master.run(new + "--context dev get pods").rc == 0
    refused = master.run(old + "--context dev get pods")
    assert refused.rc != 0 and "forbidden" in refused.stderr.lower(), refused.stdout
    group = json.loads(
        master.check_output(ADMIN + "-n dev get rolebinding team-alpha-edit -o json")
    )
    assert group["subjects"][0]["name"] == "kubebin:team:alpha:2"


def test_a_privileged_pod_is_refused_and_a_normal_one_is_not(master):
    """--allow-privileged=false on the apiserver and kubelets: a team cannot become root on a
    node through a privileged container; the same pod without it is accepted."""
    alpha = install(master, "alpha")
    refused = create_pod(master, alpha, container={"securityContext": {"privileged": True}})
    assert refused.rc != 0 and "privileged" in refused.stderr.lower(), refused.stderr
    accepted = create_pod(master, alpha)
    assert accepted.rc == 0, accepted.stderr
    master.run(alpha + "--context dev delete pod pod-check --now")


def test_pod_security_policy_keeps_team_pods_off_the_host(master):
    """kube_addons' restricted policy: a team's pod on the host network, or with a host path,
    is refused at admission; kube-system's privileged policy is not the team's."""
    alpha = install(master, "alpha")
    for spec in ({"hostNetwork": True}, {"volumes": [{"name": "h", "hostPath": {"path": "/"}}]}):
        refused = create_pod(master, alpha, **spec)
        assert refused.rc != 0, refused.stdout
        assert "unable to validate against any pod security policy" in refused.stderr, (
            refused.stderr
        )
    can = master.run(
        ADMIN + "auth can-i use podsecuritypolicy/kubebin-privileged -n dev --as team:alpha"
        " --as-group kubebin:team:alpha:2 --as-group system:authenticated"
    )
    assert can.stdout.strip() == "no", can.stdout + can.stderr
