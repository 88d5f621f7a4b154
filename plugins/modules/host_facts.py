#!/usr/bin/python
# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: host_facts
short_description: Gather, in one pass, the host facts the kernel/OS bug checks need
version_added: "0.1.0"
description:
  - Reads what M(ansible.builtin.setup) does not give cheaply, in one round trip and without
    changing anything; the result has the shape C(kubebin.cluster.kernel_findings) expects.
  - Kernel release and command line; the values of the listed sysctls (a sysctl the kernel
    lacks is left out); which sysctls are persisted in C(/etc/sysctl.conf), C(/etc/sysctl.d),
    C(/run/sysctl.d), C(/usr/lib/sysctl.d); which of the listed kernel modules are available
    (loaded, built in, or loadable by C(modprobe)); installed versions of the listed packages
    (dpkg or rpm); swap in use and the swap C(/etc/fstab) turns on at boot; the iptables
    FORWARD policy; whether listed systemd units are active; the flags of the running kubelet
    and kube-proxy (C([]) when one does not run).
  - With O(gather_subset), also the host's Ansible facts of that subset, gathered in the same
    run by ansible-core's own fact collectors (what M(ansible.builtin.setup) runs), and marked
    as gathered, so the plays after it do not gather again (C(gathering = smart)). That is one
    module run per host less on every C(site.yml) run (measured in docs/design.md section 8).
options:
  sysctls:
    description: Sysctl names to read (dotted, as in C(sysctl -a)).
    type: list
    elements: str
    default: []
  modules:
    description: Kernel module names to look for.
    type: list
    elements: str
    default: []
  packages:
    description:
      - Canonical name to the distribution package names that provide it; the first installed
        one gives the version; for example C(conntrack) is provided by C(conntrack) or
        C(conntrack-tools).
    type: dict
    default: {}
  units:
    description: Fact name to systemd unit; the fact is V(true) when the unit is active.
    type: dict
    default: {}
  gather_subset:
    description:
      - Also return the Ansible facts of these subsets (as M(ansible.builtin.setup)'s
        O(ansible.builtin.setup#module:gather_subset)); V([]) - none.
    type: list
    elements: str
    default: []
  fact_path:
    description: Where the C(local) subset reads local facts (as M(ansible.builtin.setup)).
    type: path
    default: /etc/ansible/facts.d
  installed_packages:
    description:
      - Also return the names of every installed package (dpkg or rpm) as the fact
        C(kubebin_installed_packages); M(kubebin.cluster.packages) then skips its module run
        for packages known installed (one package query per host and run, not one per role).
    type: bool
    default: false
notes:
  - Read-only; supports check mode.
author:
  - kubebin.cluster maintainers (@kubebin)
"""

EXAMPLES = r"""
- name: Gather what the kernel checks need
  kubebin.cluster.host_facts:
    sysctls: [net.ipv4.ip_forward, fs.may_detach_mounts]
    modules: [br_netfilter, ip_vs]
    packages: {ipset: [ipset], conntrack: [conntrack, conntrack-tools]}
    units: {firewalld_active: firewalld}
  register: host
"""

RETURN = r"""
ansible_facts:
  description:
    - With O(gather_subset), the host's Ansible facts of those subsets.
    - With O(installed_packages), C(kubebin_installed_packages) - every installed package's name.
  returned: when O(gather_subset) or O(installed_packages) is set
  type: dict
  sample:
    os_family: Debian
    distribution: Debian
    distribution_version: "12.8"
    kernel: 6.1.0-28-amd64
host:
  description: The facts, keys as C(kubebin.cluster.kernel_findings) documents them.
  returned: always
  type: dict
  sample:
    kernel: 3.10.0-957.el7.x86_64
    cmdline: BOOT_IMAGE=/vmlinuz ro crashkernel=auto
    sysctl: {net.ipv4.ip_forward: "1"}
    persisted_sysctls: [net.ipv4.ip_forward]
    modules: [br_netfilter]
    packages: {conntrack: 1.4.4-7.el7}
    swap_mb: 0
    swap_fstab: [/dev/mapper/centos-swap]
    kubelet_args: [--fail-swap-on=true, --v=2]
    kube_proxy_args: []
    forward_policy: ACCEPT
    firewalld_active: false
"""

import glob
import os
import platform

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.facts import ansible_collector, default_collectors
from ansible.module_utils.facts.namespace import PrefixFactNamespace

from ansible_collections.kubebin.cluster.plugins.module_utils.packages import FACT as PACKAGES_FACT
from ansible_collections.kubebin.cluster.plugins.module_utils.packages import installed

# setup's own minimal subset (what "min" means to it)
MINIMAL_SUBSET = frozenset(
    [
        "apparmor",
        "caps",
        "cmdline",
        "date_time",
        "distribution",
        "dns",
        "env",
        "fips",
        "local",
        "lsb",
        "pkg_mgr",
        "platform",
        "python",
        "selinux",
        "service_mgr",
        "ssh_pub_keys",
        "user",
    ]
)

from ansible_collections.kubebin.cluster.plugins.module_utils.kmod import (
    builtin_modules,
    is_present,
)

SYSCTL_DIRS = ("/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d")


def read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return None


def sysctl_values(names):
    values = {}
    for name in names:
        text = read("/proc/sys/" + name.replace(".", "/"))
        if text is not None:
            values[name] = " ".join(text.split())
    return values


def persisted_sysctls():
    files = ["/etc/sysctl.conf"]
    for directory in SYSCTL_DIRS:
        files.extend(sorted(glob.glob(os.path.join(directory, "*.conf"))))
    names = set()
    for path in files:
        for raw in (read(path) or "").splitlines():
            line = raw.strip().lstrip("-")
            if not line or line[0] in "#;" or "=" not in line:
                continue
            names.add(line.split("=", 1)[0].strip().replace("/", "."))
    return sorted(names)


def available_modules(module, names):
    builtin = builtin_modules(platform.release())
    modprobe = module.get_bin_path("modprobe")
    found = []
    for name in names:
        if is_present(name, builtin):
            found.append(name)
            continue
        if modprobe and module.run_command([modprobe, "--dry-run", name])[0] == 0:
            found.append(name)
    return found


def package_versions(module, packages):
    wanted = {pkg: canon for canon, pkgs in packages.items() for pkg in pkgs}
    if not wanted:
        return {}
    installed = {}
    dpkg = module.get_bin_path("dpkg-query")
    rpm = module.get_bin_path("rpm")
    if dpkg:
        fmt = "${Package}\t${Status}\t${Version}\n"
        _rc, out, _err = module.run_command([dpkg, "-W", "-f", fmt, *wanted])
        for line in out.splitlines():
            parts = line.split("\t")
            if len(parts) == 3 and parts[1].endswith(" installed"):
                installed[parts[0]] = parts[2]
    elif rpm:
        _rc, out, _err = module.run_command(
            [rpm, "-q", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\n", *wanted]
        )
        for line in out.splitlines():
            parts = line.split("\t")
            if len(parts) == 2:
                installed[parts[0]] = parts[1]
    else:
        return None
    result = {}
    for canon, pkgs in packages.items():
        for pkg in pkgs:
            if pkg in installed:
                result[canon] = installed[pkg]
                break
    return result


def swap_mb():
    text = read("/proc/swaps")
    if text is None:
        return None
    total_kb = 0
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 4 and fields[3].isdigit():
            total_kb += int(fields[3])
    return total_kb // 1024


def fstab_swap(path="/etc/fstab"):
    """The swap entries /etc/fstab turns on at boot (not commented, type swap)."""
    text = read(path)
    if text is None:
        return None
    out = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 3 and fields[2] == "swap":
            out.append(fields[0])
    return out


def process_args(names, proc="/proc"):
    """{name: argv[1:]} of the first running process of each NAME (its /proc/<pid>/comm);
    [] for a name with no process (it runs with no flag the rules could read)."""
    found = {name: [] for name in names}
    left = set(names)
    for comm_path in sorted(glob.glob(os.path.join(proc, "[0-9]*", "comm"))):
        if not left:
            break
        comm = (read(comm_path) or "").strip()
        if comm not in left:
            continue
        raw = read(os.path.join(os.path.dirname(comm_path), "cmdline")) or ""
        argv = [a for a in raw.split("\0") if a]
        found[comm] = argv[1:]
        left.discard(comm)
    return found


def forward_policy(module):
    iptables = module.get_bin_path("iptables")
    if not iptables:
        return None
    rc, out, _err = module.run_command([iptables, "-w", "-S", "FORWARD"])
    if rc != 0:
        return None
    for line in out.splitlines():
        fields = line.split()
        if fields[:2] == ["-P", "FORWARD"] and len(fields) == 3:
            return fields[2]
    return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            sysctls=dict(type="list", elements="str", default=[]),
            modules=dict(type="list", elements="str", default=[]),
            packages=dict(type="dict", default={}),
            units=dict(type="dict", default={}),
            gather_subset=dict(type="list", elements="str", default=[]),
            fact_path=dict(type="path", default="/etc/ansible/facts.d"),
            installed_packages=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    for canon, pkgs in params["packages"].items():
        if not isinstance(pkgs, list) or not all(isinstance(p, str) for p in pkgs):
            module.fail_json(
                msg="packages.%s must be a list of package names, got %r" % (canon, pkgs)
            )

    host = {
        "kernel": platform.release(),
        "sysctl": sysctl_values(params["sysctls"]),
        "persisted_sysctls": persisted_sysctls(),
        "modules": available_modules(module, params["modules"]),
    }
    cmdline = read("/proc/cmdline")
    if cmdline is not None:
        host["cmdline"] = cmdline.strip()
    packages = package_versions(module, params["packages"])
    if packages is not None:
        host["packages"] = packages
    swap = swap_mb()
    if swap is not None:
        host["swap_mb"] = swap
    at_boot = fstab_swap()
    if at_boot is not None:
        host["swap_fstab"] = at_boot
    running = process_args(["kubelet", "kube-proxy"])
    host["kubelet_args"] = running["kubelet"]
    host["kube_proxy_args"] = running["kube-proxy"]
    policy = forward_policy(module)
    if policy is not None:
        host["forward_policy"] = policy
    systemctl = module.get_bin_path("systemctl")
    if systemctl:
        for fact, unit in params["units"].items():
            _rc, out, _err = module.run_command([systemctl, "is-active", str(unit)])
            host[fact] = out.strip() == "active"

    result = {"changed": False, "host": host}
    if params["gather_subset"]:
        result["ansible_facts"] = ansible_facts(module, params["gather_subset"])
    if params["installed_packages"]:
        names = installed(module)
        if names is not None:
            result.setdefault("ansible_facts", {})[PACKAGES_FACT] = sorted(names)
    module.exit_json(**result)


def ansible_facts(module, subset):
    """The Ansible facts of SUBSET, as setup gathers them, marked gathered for the run."""
    try:
        collector = ansible_collector.get_ansible_collector(
            all_collector_classes=default_collectors.collectors,
            namespace=PrefixFactNamespace(namespace_name="ansible", prefix="ansible_"),
            filter_spec=[],
            gather_subset=subset,
            gather_timeout=10,
            minimal_gather_subset=MINIMAL_SUBSET,
        )
    except Exception as exc:  # a bad subset name: say which
        module.fail_json(msg="gather_subset %s: %s" % (subset, exc))
    facts = collector.collect(module=module)
    # the flag ansible.builtin.gather_facts sets: smart gathering skips this host afterwards
    facts["_ansible_facts_gathered"] = True
    return facts


if __name__ == "__main__":
    main()
