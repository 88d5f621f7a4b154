"""kdev (roles/devcli/files/kdev.py): what it shows and says, from objects as the 1.10 apiserver
returns them. The commands against a real cluster are the default scenario's
(extensions/molecule/default/tests/test_devcli.py)."""

import datetime
import importlib.machinery
import importlib.util
import io
from pathlib import Path

import pytest

KDEV = Path(__file__).parents[3] / "roles" / "devcli" / "files" / "kdev.py"


def load():
    loader = importlib.machinery.SourceFileLoader("kdev", str(KDEV))
    spec = importlib.util.spec_from_loader("kdev", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


kdev = load()


def deployment(name, replicas=2, ready=1, labels=None, env=None):
    labels = labels or {"app": name}
    container = {"name": name, "image": "registry.lan/%s:1" % name}
    if env is not None:
        container["env"] = env
    return {
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
        "status": {"readyReplicas": ready} if ready else {},
    }


def pod(name, labels, phase="Running", waiting=None):
    status = {"phase": phase}
    if waiting:
        status["containerStatuses"] = [{"state": {"waiting": {"reason": waiting}}}]
    return {"metadata": {"name": name, "labels": labels}, "status": status}


def test_apps_table_lists_each_app_with_its_pods():
    deps = [deployment("web"), deployment("api", replicas=1, ready=0)]
    pods = [
        pod("web-1", {"app": "web"}),
        pod("web-2", {"app": "web"}, phase="Pending", waiting="ImagePullBackOff"),
        pod("other", {"app": "x"}),
    ]
    rows = kdev.apps_rows(deps, pods)
    assert rows == [
        ["api", "0/1", "registry.lan/api:1", "-"],
        ["web", "1/2", "registry.lan/web:1", "web-1(Running) web-2(ImagePullBackOff)"],
    ]
    text = kdev.table(["APP", "READY", "IMAGES", "PODS"], rows)
    assert text.splitlines()[0].split() == ["APP", "READY", "IMAGES", "PODS"]
    assert text.splitlines()[2].startswith("web  1/2")


def test_forbidden_and_not_found_are_said_plainly():
    msg = kdev.explain(
        'Error from server (Forbidden): deployments.extensions is forbidden: User "team:alpha"'
        ' cannot list deployments.extensions in the namespace "prod"',
        "apps",
    )
    assert msg.startswith('not allowed in "prod" (team:alpha): your team has no rights for apps')
    assert kdev.explain(
        'Error from server (NotFound): deployments "x" not found', "app x"
    ).startswith("app x: not found")


def test_restart_touches_the_pod_template():
    patch = kdev.restart_patch(datetime.datetime(2026, 12, 3, 7, 0, 0))
    assert patch == {
        "spec": {
            "template": {
                "metadata": {"annotations": {"kubebin.io/restartedAt": "2026-12-03T07:00:00Z"}}
            }
        }
    }


def test_java_opts_per_container():
    d = deployment("web", env=[{"name": "JAVA_OPTS", "value": "-Xmx1g"}])
    assert kdev.java_opts(d) == {"web": "-Xmx1g"}
    assert kdev.java_opts(deployment("api")) == {"api": None}


def test_selector_and_pods_of():
    d = deployment("web", labels={"app": "web", "tier": "front"})
    assert kdev.selector(d) == "app=web,tier=front"
    assert kdev.pods_of(
        d, [pod("a", {"app": "web", "tier": "front"}), pod("b", {"app": "web"})]
    ) == [pod("a", {"app": "web", "tier": "front"})]


def test_every_command_has_its_help():
    for verb in ("env", "apps", "scale", "restart", "logs", "exec", "jvm"):
        out = io.StringIO()
        with pytest.raises(SystemExit) as done:
            import contextlib

            with contextlib.redirect_stdout(out):
                kdev.parser().parse_args([verb, "--help"])
        assert done.value.code == 0
        assert "usage: kdev %s" % verb in out.getvalue()


def test_exec_takes_the_command_after_the_double_dash():
    args = kdev.parser().parse_args(["exec", "-e", "dev", "web", "--", "ls", "-l"])
    # argparse keeps the "--" before Python 3.8 and drops it after; main() drops it either way
    assert (args.env, args.app) == ("dev", "web")
    assert args.command[-2:] == ["ls", "-l"] and args.command[:-2] in ([], ["--"])


def test_a_missing_kubectl_is_a_clear_failure(monkeypatch, capsys):
    monkeypatch.setenv("KDEV_KUBECTL", "")
    monkeypatch.setattr(kdev.shutil, "which", lambda _name: None)
    assert kdev.main(["apps"]) == 1
    assert "kubectl is not installed" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [["-e", "prod", "apps"], ["apps", "-e", "prod"], ["--kubeconfig", "/k", "-e", "prod", "apps"]],
)
def test_env_and_kubeconfig_before_or_after_the_command(argv):
    args = kdev.parser().parse_args(argv)
    assert args.env == "prod" and args.verb == "apps"
    assert args.kubeconfig == ("/k" if "--kubeconfig" in argv else None)
