"""kdev, the developers' kubectl (role devcli), end to end on the jump host (kb-cl-r1) with
team alpha's kubeconfig against the lab's cluster: apps, scale, restart (new pods), logs with
a filter, exec, the JAVA_OPTS of an app in its pods' environment, switching environment, and a
forbidden environment's clear error."""

import base64
import json
import os
from pathlib import Path

import pytest
from lab import ensure_test_image, wait_for, web_container
from lab import get_host as host

JUMP, MASTER = "kb-cl-r1", "kb-cl-m1"
NODES = ["kb-cl-n1", "kb-cl-n2"]
TEAMS = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp")) / "teams"
ADMIN = "kubectl --kubeconfig /etc/kubernetes/admin.conf -n dev "
CONF = "/root/alpha.conf"
APP = "shop"


@pytest.fixture(scope="module")
def jump():
    return host(JUMP)


@pytest.fixture(scope="module")
def kdev(jump):
    """Run kdev on the jump host as a developer of team alpha would."""
    text = (TEAMS / "alpha.conf").read_bytes()
    out = jump.run(
        f"echo {base64.b64encode(text).decode()} | base64 -d > {CONF} && chmod 600 {CONF}"
    )
    assert out.rc == 0, out.stderr

    def run(args, ok=True):
        result = jump.run(f"KUBECONFIG={CONF} kdev {args}")
        if ok:
            assert result.rc == 0, result.stdout + result.stderr
        return result

    return run


@pytest.fixture(scope="module")
def app():
    """A Deployment of the test web server in dev, made by the cluster admin."""
    for name in NODES:
        ensure_test_image(host(name))
    master = host(MASTER)
    container = web_container(APP)
    manifest = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": APP, "namespace": "dev"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": APP}},
            "template": {"metadata": {"labels": {"app": APP}}, "spec": {"containers": [container]}},
        },
    }
    encoded = base64.b64encode(json.dumps(manifest).encode()).decode()
    out = master.run(f"echo {encoded} | base64 -d | {ADMIN} apply -f -")
    assert out.rc == 0, out.stderr
    yield master
    master.run(ADMIN + f"delete deployment {APP} --ignore-not-found")


def ready(master, replicas):
    def probe():
        d = json.loads(master.check_output(ADMIN + f"get deployment {APP} -o json"))
        return (d["status"].get("readyReplicas") or 0) == replicas and d["status"].get(
            "updatedReplicas"
        ) == replicas

    return wait_for(f"{APP} with {replicas} ready pods", probe)


def pods(master):
    listed = json.loads(master.check_output(ADMIN + f"get pods -l app={APP} -o json"))
    return sorted(
        p["metadata"]["name"] for p in listed["items"] if not p["metadata"].get("deletionTimestamp")
    )


def test_kdev_and_kubectl_are_installed(jump):
    assert jump.file("/usr/local/bin/kdev").mode == 0o755
    assert "v1.10.13" in jump.check_output("kubectl version --client --short")


def test_env_lists_the_teams_environments_and_switches(kdev):
    rows = [line.split() for line in kdev("env").stdout.splitlines()[1:]]
    assert rows == [["*", "dev"], ["stage"], ["test"]]
    assert "now working in test" in kdev("env test").stdout
    assert ["*", "test"] in [line.split() for line in kdev("env").stdout.splitlines()]
    kdev("env dev")


def test_apps_shows_the_app_its_image_and_pods(kdev, app):
    ready(app, 1)
    out = kdev("apps").stdout
    assert out.splitlines()[0].split() == ["APP", "READY", "IMAGES", "PODS"]
    line = next(line for line in out.splitlines() if line.startswith(APP))
    assert "1/1" in line and "kubebin-test/web:1" in line and "(Running)" in line


def test_scale(kdev, app):
    assert f"{APP} scaled to 2" in kdev(f"scale {APP} 2").stdout
    ready(app, 2)
    assert len(pods(app)) == 2


def test_restart_makes_new_pods(kdev, app):
    before = pods(app)
    kdev(f"restart {APP}")
    wait_for(
        "new pods", lambda: set(pods(app)).isdisjoint(before) and len(pods(app)) == 2, timeout=240
    )
    ready(app, 2)


def test_exec_runs_in_a_pod_of_the_app(kdev, app):
    out = kdev(f"exec {APP} -- /busybox hostname").stdout.strip()
    assert out in pods(app)


def test_logs_of_every_pod_with_a_filter(kdev, app):
    # busybox httpd logs nothing by itself: the filter is shown on what kubectl prints per pod
    for pod in pods(app):
        app.run(ADMIN + f"exec {pod} -- /busybox sh -c 'echo kdev-marker-{pod} > /proc/1/fd/1'")
    out = kdev(f"logs {APP} --grep kdev-marker").stdout
    for pod in pods(app):
        assert f"kdev-marker-{pod}" in out
    assert all("kdev-marker" in line for line in out.splitlines())


def test_jvm_options_reach_the_pods_environment(kdev, app):
    assert "(not set)" in kdev(f"jvm {APP}").stdout
    kdev(f'jvm {APP} "-Xms64m -Xmx128m"')
    ready(app, 2)
    assert "-Xms64m -Xmx128m" in kdev(f"jvm {APP}").stdout
    pod = pods(app)[0]
    env = app.check_output(ADMIN + f"exec {pod} -- /busybox env")
    assert "JAVA_OPTS=-Xms64m -Xmx128m" in env


def test_a_forbidden_environment_and_an_unknown_app_are_clear(kdev, jump):
    out = kdev("-e prod apps", ok=False)
    assert out.rc == 1
    assert "environment 'prod' is not one your team may use; yours: dev, stage, test" in out.stderr
    # a context for prod made by hand: the apiserver refuses, and kdev says so plainly
    jump.check_output(
        f"kubectl --kubeconfig {CONF} config set-context prod --cluster=kubernetes"
        " --user=team:alpha --namespace=prod"
    )
    refused = kdev("-e prod apps", ok=False)
    assert refused.rc == 1 and 'not allowed in "prod" (team:alpha)' in refused.stderr, (
        refused.stderr
    )
    nope = kdev("scale nosuchapp 1", ok=False)
    assert nope.rc == 1 and f"no app 'nosuchapp' here; the apps are: {APP}" in nope.stderr
