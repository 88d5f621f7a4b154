"""node_prep's SELinux step (tasks/selinux.yml, node_prep_selinux), run for real on this machine.

This machine has no SELinux (nor do the lab's containers), so the role's two inputs, the
selinuxfs enforce file and /etc/selinux/config, are pointed at files in tmp_path through the
role's internal variables (vars/main.yml). One ansible-playbook run covers every case: one
inventory host per case, all over the local connection, each with its own pair of files.
Nothing outside tmp_path is read or written. setenforce writes the kernel's own
/sys/fs/selinux/enforce, so the role runs it only when that is the file it read: never here
(the tests check it was skipped); the enforce files keep their content.
"""

import json
import re

import pytest
import yaml

from ..playbook_runner import ROOT, run_playbook

PREFIX = "kubebin.cluster.node_prep : "
READ_NOW = "Read SELinux's current mode"
READ_BOOT = "Read SELinux's mode at boot"
STOP = "Stop where SELinux enforces and node_prep_selinux is keep"
SETENFORCE = "Switch SELinux to permissive now"
REWRITE = "Boot SELinux permissive"

# CentOS 7's /etc/selinux/config, as the OS installs it.
CENTOS7_CONFIG = """\
# This file controls the state of SELinux on the system.
# SELINUX= can take one of these three values:
#     enforcing - SELinux security policy is enforced.
#     permissive - SELinux prints warnings instead of enforcing.
#     disabled - No SELinux policy is loaded.
SELINUX={mode}
# SELINUXTYPE= can take one of three values:
#     targeted - Targeted processes are protected,
#     minimum - Modification of targeted policy. Only selected processes are protected.
#     mls - Multi Level Security protection.
SELINUXTYPE=targeted
"""


def config(mode):
    return CENTOS7_CONFIG.format(mode=mode)


# host: (enforce file content or None: no SELinux, config content or None: no file,
#        node_prep_selinux or None: the role's default)
CASES = {
    "no-selinux": (None, config("enforcing"), None),
    "no-selinux-keep": (None, config("enforcing"), "keep"),
    "permissive": ("0\n", config("permissive"), None),
    "permissive-keep": ("0\n", config("permissive"), "keep"),
    "permissive-boot-disabled": ("0\n", config("disabled"), None),
    "boot-enforcing": ("0\n", config("enforcing"), None),
    "boot-enforcing-keep": ("0\n", config("enforcing"), "keep"),
    "enforcing": ("1\n", config("enforcing"), None),
    "enforcing-keep": ("1\n", config("enforcing"), "keep"),
    "enforcing-quoted": ("1", '  SELINUX = "enforcing"  # site\nSELINUXTYPE=targeted\n', None),
    "enforcing-no-config": ("1\n", None, "permissive"),
}
FAILING = {"boot-enforcing-keep", "enforcing-keep"}
REWRITTEN = {"boot-enforcing", "enforcing", "enforcing-quoted"}

PLAY = [
    {
        "name": "node_prep's SELinux step",
        "hosts": "all",
        "connection": "local",
        "gather_facts": False,
        "tasks": [
            {
                "name": "SELinux",
                "ansible.builtin.include_role": {
                    "name": "kubebin.cluster.node_prep",
                    "tasks_from": "selinux",
                },
                # Task vars: above the role's vars/main.yml, where these two live.
                "vars": {
                    "node_prep_selinux_enforce_file": "{{ case_enforce_file }}",
                    "node_prep_selinux_config": "{{ case_config }}",
                },
            }
        ],
    }
]


def inventory(base):
    """tmp files per case, and the inventory that points the role at them."""
    hosts = {}
    for host, (enforce, conf, mode) in CASES.items():
        sysfs = base / host / "sys-fs-selinux"
        etc = base / host / "etc-selinux"
        sysfs.mkdir(parents=True)
        etc.mkdir(parents=True)
        if enforce is not None:
            (sysfs / "enforce").write_text(enforce)
        if conf is not None:
            (etc / "config").write_text(conf)
        hosts[host] = {
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "case_enforce_file": str(sysfs / "enforce"),
            "case_config": str(etc / "config"),
        }
        if mode is not None:
            hosts[host]["node_prep_selinux"] = mode
    path = base / "hosts.yml"
    path.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    return path


def snapshot(base):
    """{path: content} of every file the cases have."""
    return {
        p: p.read_text() for host in CASES for p in sorted((base / host).rglob("*")) if p.is_file()
    }


def run(base, inv, *args):
    book = base / "play.yml"
    book.write_text(yaml.safe_dump(PLAY, sort_keys=False))
    rc, out = run_playbook(
        book,
        inv,
        *args,
        env_extra={
            "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
            "ANSIBLE_LOCAL_TEMP": str(base / "ansible-tmp"),
        },
    )
    return Run(rc, out)


class Run:
    """One ansible-playbook run: each task's status per host, each host's recap."""

    STATUS = re.compile(r"^(ok|changed|skipping|fatal): \[([^\]]+)\]")
    RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")

    def __init__(self, rc, out):
        self.rc, self.out = rc, out
        self.status, self.fatal, self.recap = {}, {}, {}
        task, fatal_host = None, None
        for line in out.splitlines():
            if line.startswith("TASK ["):
                task = line[len("TASK [") : line.rindex("]")].removeprefix(PREFIX)
                fatal_host = None
                continue
            m = self.STATUS.match(line)
            if m:
                self.status[task, m.group(2)] = m.group(1)
                fatal_host = m.group(2) if m.group(1) == "fatal" else None
                if fatal_host:
                    self.fatal[fatal_host] = line
                continue
            m = self.RECAP.match(line)
            if m:
                self.recap[m.group(1)] = {"changed": int(m.group(3)), "failed": int(m.group(5))}
                fatal_host = None
            elif fatal_host:
                self.fatal[fatal_host] += "\n" + line

    def message(self, host):
        """The failure message of HOST, on one line."""
        text = self.fatal[host]
        # the JSON object only: another host's output may follow it in the log
        return json.JSONDecoder().raw_decode(text[text.index("{") :])[0]["msg"]

    def ran(self, task, host):
        return self.status.get((task, host), "not shown")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """{"check": Run, "first": Run, "second": Run} with the files after each, in one tmp dir."""
    base = tmp_path_factory.mktemp("selinux")
    inv = inventory(base)
    before = snapshot(base)
    check = run(base, inv, "--check", "--diff")
    after_check = snapshot(base)
    first = run(base, inv, "--diff")
    after_first = snapshot(base)
    second = run(base, inv)
    after_second = snapshot(base)
    return {
        "base": base,
        "before": before,
        "check": (check, after_check),
        "first": (first, after_first),
        "second": (second, after_second),
    }


def conf_file(runs, host):
    return runs["base"] / host / "etc-selinux" / "config"


def enforce_file(runs, host):
    return runs["base"] / host / "sys-fs-selinux" / "enforce"


def test_every_case_ran(runs):
    for name in ("check", "first", "second"):
        result, _files = runs[name]
        assert set(result.recap) == set(CASES), result.out
        failed = {h for h, r in result.recap.items() if r["failed"]}
        assert failed == FAILING, result.out
        assert result.rc != 0  # the keep cases stop


@pytest.mark.parametrize("host", ["no-selinux", "no-selinux-keep"])
def test_a_host_without_selinux_costs_one_stat(runs, host):
    result, _files = runs["first"]
    assert result.ran("Look for SELinux", host) == "ok", result.out
    for task in (READ_NOW, READ_BOOT, STOP, SETENFORCE, REWRITE):
        assert result.ran(task, host) == "skipping", (task, result.out)
    assert result.recap[host]["changed"] == 0
    # The config says enforcing, but without selinuxfs it enforces nothing: left alone.
    assert conf_file(runs, host).read_text() == config("enforcing")


@pytest.mark.parametrize("host", ["permissive", "permissive-keep", "permissive-boot-disabled"])
def test_a_permissive_host_is_left_alone(runs, host):
    for name in ("check", "first", "second"):
        result, _files = runs[name]
        assert result.recap[host] == {"changed": 0, "failed": 0}, result.out
        assert result.ran(SETENFORCE, host) == "skipping"
        assert result.ran(REWRITE, host) == "skipping"
    _enforce, conf, _mode = CASES[host]
    assert conf_file(runs, host).read_text() == conf


def test_keep_stops_where_selinux_enforces(runs):
    result, _files = runs["first"]
    msg = result.message("enforcing-keep")
    for needle in (
        "SELinux enforces on enforcing-keep",
        "is 1: enforcing now",
        "says SELINUX=enforcing: enforcing from the next boot",
        "node_prep_selinux is keep",
        "does not label its binaries and directories for enforcing mode",
        "/usr/local/bin/kube*, /var/lib/kubelet, /etc/kubernetes, docker's data root",
        "SELinux would deny docker and kubelet",
        "Set node_prep_selinux: permissive",
        "or make SELinux permissive on this host yourself",
    ):
        assert needle in msg, msg
    assert conf_file(runs, "enforcing-keep").read_text() == config("enforcing")


def test_keep_stops_where_selinux_would_enforce_after_a_reboot(runs):
    result, _files = runs["first"]
    msg = result.message("boot-enforcing-keep")
    assert "says SELINUX=enforcing: enforcing from the next boot" in msg, msg
    assert "enforcing now" not in msg, msg
    assert "node_prep_selinux is keep" in msg, msg
    assert conf_file(runs, "boot-enforcing-keep").read_text() == config("enforcing")


def test_check_mode_reports_and_changes_nothing(runs):
    result, files = runs["check"]
    assert files == runs["before"]
    for host in REWRITTEN:
        assert result.ran(REWRITE, host) == "changed", result.out
    assert result.recap["enforcing"]["changed"] == 1, result.out
    assert "+SELINUX=permissive" in result.out and "-SELINUX=enforcing" in result.out


def test_permissive_rewrites_the_config_where_it_enforces(runs):
    result, _files = runs["first"]
    for host in REWRITTEN:
        assert result.ran(REWRITE, host) == "changed", result.out
        assert result.recap[host] == {"changed": 1, "failed": 0}, result.out
    assert conf_file(runs, "enforcing").read_text() == config("permissive")
    assert conf_file(runs, "boot-enforcing").read_text() == config("permissive")
    assert conf_file(runs, "enforcing-quoted").read_text() == (
        "SELINUX=permissive\nSELINUXTYPE=targeted\n"
    )


def test_setenforce_runs_only_against_the_kernels_file(runs):
    """The enforce files here are not /sys/fs/selinux/enforce: setenforce is skipped, and they
    keep what they said."""
    for name in ("check", "first", "second"):
        result, _files = runs[name]
        for host in ("enforcing", "enforcing-quoted", "enforcing-no-config"):
            assert result.ran(SETENFORCE, host) == "skipping", result.out
    for host, (enforce, _conf, _mode) in CASES.items():
        path = enforce_file(runs, host)
        assert (path.read_text() if path.exists() else None) == enforce


def test_setenforce_is_chosen_where_the_kernel_enforces(runs):
    """Control, in check mode (which never runs a command): with the enforce file taken for the
    kernel's own, an enforcing host gets setenforce 0 (reported as a change) and nothing else
    changes."""
    base = runs["base"]
    before = snapshot(base)
    result = run(
        base,
        base / "hosts.yml",
        "--check",
        "--limit",
        "enforcing",
        "-e",
        f"node_prep_selinux_kernel_enforce_file={enforce_file(runs, 'enforcing')}",
    )
    assert result.rc == 0, result.out
    assert result.ran(SETENFORCE, "enforcing") == "changed", result.out
    assert snapshot(base) == before


def test_no_config_file_is_no_change(runs):
    result, _files = runs["first"]
    assert result.recap["enforcing-no-config"] == {"changed": 0, "failed": 0}, result.out
    assert result.ran(REWRITE, "enforcing-no-config") == "skipping"
    assert not conf_file(runs, "enforcing-no-config").exists()


def test_second_run_changes_nothing(runs):
    result, files = runs["second"]
    assert files == runs["first"][1]
    for host, recap in result.recap.items():
        assert recap["changed"] == 0, (host, result.out)


def test_setenforce_is_guarded_in_the_task_file():
    """The one command of the step runs only against the kernel's enforce file."""
    tasks = yaml.safe_load((ROOT / "roles" / "node_prep" / "tasks" / "selinux.yml").read_text())
    block = next(t for t in tasks if "block" in t)["block"]
    task = next(t for t in block if t["name"] == SETENFORCE)
    assert task["ansible.builtin.command"]["cmd"] == "setenforce 0"
    assert "node_prep_selinux_enforce_file == node_prep_selinux_kernel_enforce_file" in task["when"]
    role_vars = yaml.safe_load((ROOT / "roles" / "node_prep" / "vars" / "main.yml").read_text())
    assert role_vars["node_prep_selinux_kernel_enforce_file"] == "/sys/fs/selinux/enforce"
    assert role_vars["node_prep_selinux_config"] == "/etc/selinux/config"
