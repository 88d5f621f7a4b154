# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kdev - the developers' kubectl: the things a project team does all day, by app name.

Works with a team kubeconfig (one context per environment namespace, made by kubebin.cluster's
pki role) and the cluster's kubectl. An "app" is a Deployment; its pods are the ones its
selector picks.

  kdev env [ENV]               show the environments (contexts), or switch to ENV
  kdev apps                    the apps of the environment: ready, images, pods
  kdev scale APP REPLICAS      set an app's replicas
  kdev restart APP             new pods for an app (its pod template touched)
  kdev logs APP [-f] [-g RE]   logs of every pod of an app, each line prefixed with its pod
  kdev exec APP [-- CMD...]    a shell (or CMD) in a running pod of an app
  kdev jvm APP [OPTIONS]       show, or set, the JAVA_OPTS of an app's containers

Every command takes -e/--env ENV (default: the kubeconfig's current context) and
--kubeconfig (default: $KUBECONFIG, else ~/.kube/config). Python 3.6+, no other module.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import threading

RESTART_ANNOTATION = "kubebin.io/restartedAt"
JAVA_OPTS = "JAVA_OPTS"


class Failure(Exception):
    """What the user is told, on one line, with exit status 1."""


# --- kubectl ------------------------------------------------------------------------------


class Kubectl:
    def __init__(self, kubeconfig=None, context=None, binary=None):
        self.binary = binary or os.environ.get("KDEV_KUBECTL") or shutil.which("kubectl")
        if not self.binary:
            raise Failure("kubectl is not installed (or set KDEV_KUBECTL to its path)")
        # kubectl config ... must not get --context: it works on the whole kubeconfig
        self.config_base = [self.binary] + (["--kubeconfig", kubeconfig] if kubeconfig else [])
        self.base = self.config_base + (["--context", context] if context else [])

    def run(self, *args, what=""):
        proc = subprocess.run(
            [*self.base, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            universal_newlines=True,
            check=False,
        )
        if proc.returncode != 0:
            raise Failure(explain(proc.stderr or proc.stdout, what))
        return proc.stdout

    def json(self, *args, what=""):
        return json.loads(self.run(*args, "-o", "json", what=what))

    def command(self, *args):
        return [*self.base, *args]


def explain(message, what=""):
    """kubectl's error as a person needs it: forbidden and not found said plainly."""
    text = " ".join(message.split())
    m = re.search(r'User "([^"]+)" cannot (\S+) (\S+) in the namespace "([^"]+)"', text)
    if m or "forbidden" in text.lower():
        where = ' in "%s"' % m.group(4) if m else ""
        who = " (%s)" % m.group(1) if m else ""
        return "not allowed%s%s: your team has no rights for %s there. %s" % (
            where,
            who,
            what or "this",
            text,
        )
    if "NotFound" in text or "not found" in text:
        return "%s: not found. %s" % (what or "object", text)
    if "Unable to connect" in text or "connection refused" in text:
        return "cannot reach the cluster: %s" % text
    return text


# --- what the commands show ---------------------------------------------------------------


def table(headers, rows):
    """Rows as aligned columns under their headers (the last column is not padded)."""
    rows = [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers) - 1)]
    out = []
    for row in [headers, *rows]:
        cells = [c.ljust(w) for c, w in zip(row, widths)] + [row[-1]]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def selector(deployment):
    labels = ((deployment.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    if not labels:
        raise Failure("app %s has no label selector kdev can use" % deployment["metadata"]["name"])
    return ",".join("%s=%s" % kv for kv in sorted(labels.items()))


def pods_of(deployment, pods):
    labels = ((deployment.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return [
        p
        for p in pods
        if labels
        and all((p["metadata"].get("labels") or {}).get(k) == v for k, v in labels.items())
    ]


def pod_state(pod):
    status = pod.get("status") or {}
    if pod["metadata"].get("deletionTimestamp"):
        return "Terminating"
    for cs in status.get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting")
        if waiting:
            return waiting.get("reason") or "Waiting"
    return status.get("phase") or "Unknown"


def apps_rows(deployments, pods):
    rows = []
    for d in sorted(deployments, key=lambda x: x["metadata"]["name"]):
        spec, status = d.get("spec") or {}, d.get("status") or {}
        images = [c["image"] for c in spec["template"]["spec"]["containers"]]
        mine = pods_of(d, pods)
        rows.append(
            [
                d["metadata"]["name"],
                "%d/%d" % (status.get("readyReplicas") or 0, spec.get("replicas") or 0),
                ",".join(images),
                " ".join("%s(%s)" % (p["metadata"]["name"], pod_state(p)) for p in mine) or "-",
            ]
        )
    return rows


def java_opts(deployment):
    """{container: JAVA_OPTS or None}."""
    out = {}
    for c in deployment["spec"]["template"]["spec"]["containers"]:
        value = None
        for env in c.get("env") or []:
            if env.get("name") == JAVA_OPTS:
                value = env.get("value", "")
        out[c["name"]] = value
    return out


# --- commands -----------------------------------------------------------------------------


def app(kubectl, name):
    try:
        return kubectl.json("get", "deployment", name, what="app %s" % name)
    except Failure as exc:
        if "not found" not in str(exc):
            raise
        names = sorted(
            d["metadata"]["name"] for d in kubectl.json("get", "deployments", what="apps")["items"]
        )
        raise Failure(
            "no app %r here; the apps are: %s" % (name, ", ".join(names) or "(none)")
        ) from None


def kubeconfig_view(kubectl):
    proc = subprocess.run(
        [*kubectl.config_base, "config", "view", "-o", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        universal_newlines=True,
        check=False,
    )
    if proc.returncode != 0:
        raise Failure("cannot read your kubeconfig: %s" % " ".join(proc.stderr.split()))
    return json.loads(proc.stdout)


def environments(kubectl):
    """(the kubeconfig's contexts, the current one)."""
    config = kubeconfig_view(kubectl)
    return [c["name"] for c in config.get("contexts") or []], config.get("current-context")


def check_env(kubectl, env):
    names, _current = environments(kubectl)
    if env not in names:
        raise Failure(
            "environment %r is not one your team may use; yours: %s (see kdev env)"
            % (env, ", ".join(names) or "none")
        )


def cmd_env(kubectl, args, out):
    contexts, current = environments(kubectl)
    if args.name:
        if args.name not in contexts:
            raise Failure(
                "environment %r is not one your team may use; yours: %s"
                % (args.name, ", ".join(contexts))
            )
        subprocess.run(
            [*kubectl.config_base, "config", "use-context", args.name],
            stdout=subprocess.DEVNULL,
            check=True,
        )
        print("now working in %s" % args.name, file=out)
        return 0
    print(
        table(["", "ENVIRONMENT"], [["*" if c == current else "", c] for c in contexts]), file=out
    )
    return 0


def cmd_apps(kubectl, args, out):
    deployments = kubectl.json("get", "deployments", what="apps")["items"]
    pods = kubectl.json("get", "pods", what="pods")["items"]
    if not deployments:
        print("no apps in this environment", file=out)
        return 0
    print(table(["APP", "READY", "IMAGES", "PODS"], apps_rows(deployments, pods)), file=out)
    return 0


def cmd_scale(kubectl, args, out):
    if args.replicas < 0:
        raise Failure("replicas must be 0 or more, got %d" % args.replicas)
    app(kubectl, args.app)
    kubectl.run(
        "scale",
        "deployment",
        args.app,
        "--replicas=%d" % args.replicas,
        what="scaling %s" % args.app,
    )
    print("%s scaled to %d" % (args.app, args.replicas), file=out)
    return 0


def restart_patch(now=None):
    stamp = (now or datetime.datetime.utcnow()).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"spec": {"template": {"metadata": {"annotations": {RESTART_ANNOTATION: stamp}}}}}


def cmd_restart(kubectl, args, out):
    app(kubectl, args.app)
    # Kubernetes 1.10 has no `rollout restart`: a changed pod template rolls the pods.
    kubectl.run(
        "patch",
        "deployment",
        args.app,
        "-p",
        json.dumps(restart_patch()),
        what="restarting %s" % args.app,
    )
    print("%s restarting (new pods roll out)" % args.app, file=out)
    return 0


def _follow(cmd, prefix, pattern, out, lock):
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True
    )
    for line in proc.stdout:
        if pattern is None or pattern.search(line):
            with lock:
                out.write("%s %s" % (prefix, line if line.endswith("\n") else line + "\n"))
                out.flush()
    proc.wait()


def cmd_logs(kubectl, args, out):
    d = app(kubectl, args.app)
    pods = kubectl.json("get", "pods", "-l", selector(d), what="pods of %s" % args.app)["items"]
    if not pods:
        raise Failure("app %s has no pods" % args.app)
    try:
        pattern = re.compile(args.grep) if args.grep else None
    except re.error as exc:
        raise Failure("--grep %r is not a regular expression: %s" % (args.grep, exc)) from None
    width = max(len(p["metadata"]["name"]) for p in pods)
    lock = threading.Lock()
    threads = []
    for p in sorted(pods, key=lambda x: x["metadata"]["name"]):
        name = p["metadata"]["name"]
        cmd = kubectl.command("logs", name, "--tail=%d" % args.tail)
        if args.follow:
            cmd.append("-f")
        t = threading.Thread(
            target=_follow, args=(cmd, "[%s]" % name.ljust(width), pattern, out, lock)
        )
        t.daemon = True
        t.start()
        threads.append(t)
    try:
        for t in threads:
            t.join()
    except KeyboardInterrupt:
        return 130
    return 0


def running_pod(kubectl, d, name):
    pods = kubectl.json("get", "pods", "-l", selector(d), what="pods of %s" % name)["items"]
    for p in sorted(pods, key=lambda x: x["metadata"]["name"]):
        if pod_state(p) == "Running":
            return p["metadata"]["name"]
    raise Failure("app %s has no running pod" % name)


def cmd_exec(kubectl, args, out):
    d = app(kubectl, args.app)
    pod = running_pod(kubectl, d, args.app)
    command = args.command or ["sh"]
    tty = ["-it"] if sys.stdin.isatty() and sys.stdout.isatty() else ["-i"]
    return subprocess.call(kubectl.command("exec", *tty, pod, "--", *command))


def cmd_jvm(kubectl, args, out):
    d = app(kubectl, args.app)
    if args.options is None:
        rows = [[c, v if v is not None else "(not set)"] for c, v in java_opts(d).items()]
        print(table(["CONTAINER", JAVA_OPTS], rows), file=out)
        return 0
    kubectl.run(
        "set",
        "env",
        "deployment/%s" % args.app,
        "%s=%s" % (JAVA_OPTS, args.options),
        what="setting %s of %s" % (JAVA_OPTS, args.app),
    )
    print("%s of %s set (new pods roll out): %s" % (JAVA_OPTS, args.app, args.options), file=out)
    return 0


# --- the command line ----------------------------------------------------------------------


def parser():
    top = argparse.ArgumentParser(
        prog="kdev",
        description="The developers' kubectl: apps by name in your team's environments.",
    )
    # -e and --kubeconfig go before or after the command: the command's own copies do not
    # reset what was given before it (SUPPRESS)
    common = argparse.ArgumentParser(add_help=False)
    for each, default in ((top, None), (common, argparse.SUPPRESS)):
        each.add_argument(
            "-e",
            "--env",
            default=default,
            help="environment (kubeconfig context); default: the current one",
        )
        each.add_argument(
            "--kubeconfig",
            default=default,
            help="team kubeconfig (default: $KUBECONFIG or ~/.kube/config)",
        )
    sub = top.add_subparsers(dest="verb", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("env", parents=[common], help="show the environments, or switch to one")
    p.add_argument("name", nargs="?", help="the environment to work in from now on")
    p.set_defaults(func=cmd_env)
    p = sub.add_parser(
        "apps", parents=[common], help="the apps of an environment: ready, images, pods"
    )
    p.set_defaults(func=cmd_apps)
    p = sub.add_parser("scale", parents=[common], help="set the number of pods of an app")
    p.add_argument("app")
    p.add_argument("replicas", type=int)
    p.set_defaults(func=cmd_scale)
    p = sub.add_parser("restart", parents=[common], help="replace every pod of an app")
    p.add_argument("app")
    p.set_defaults(func=cmd_restart)
    p = sub.add_parser("logs", parents=[common], help="logs of every pod of an app")
    p.add_argument("app")
    p.add_argument("-f", "--follow", action="store_true", help="keep streaming")
    p.add_argument("-g", "--grep", help="only lines matching this regular expression")
    p.add_argument(
        "--tail", type=int, default=100, help="lines per pod to start with (default 100)"
    )
    p.set_defaults(func=cmd_logs)
    p = sub.add_parser(
        "exec", parents=[common], help="a shell, or a command, in a running pod of an app"
    )
    p.add_argument("app")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD ARGS... (default: sh)")
    p.set_defaults(func=cmd_exec)
    p = sub.add_parser(
        "jvm", parents=[common], help="show or set the JAVA_OPTS of an app's containers"
    )
    p.add_argument("app")
    p.add_argument("options", nargs="?", help='e.g. "-Xms512m -Xmx1g"; omit to show')
    p.set_defaults(func=cmd_jvm)
    return top


def main(argv=None, out=None):
    out = out or sys.stdout
    args = parser().parse_args(argv)
    if args.verb == "exec" and args.command[:1] == ["--"]:
        args.command = args.command[1:]
    try:
        kubectl = Kubectl(args.kubeconfig, None if args.func is cmd_env else args.env)
        if args.env and args.func is not cmd_env:
            check_env(kubectl, args.env)
        return args.func(kubectl, args, out)
    except Failure as exc:
        print("kdev: %s" % exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
