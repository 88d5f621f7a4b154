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
    FORWARD policy; whether listed systemd units are active and the C(Restart=) policy of
    others; the flags of the running kubelet, kube-proxy, flanneld and etcd (C([]) when one
    does not run; etcd's C(ETCD_*) environment counts as its flags) and kube-proxy's
    C(--config) file; every IPv4 address with its prefix and the default route's interface;
    flannel's C(/run/flannel/subnet.env); the nameservers of C(/etc/resolv.conf) and of the
    file kubelet's C(--resolv-conf) names; the NFS mounts and whether each NFS server answers
    on TCP 2049; the filesystem under docker's data root and whether it keeps C(d_type);
    SELinux's state (C(/sys/fs/selinux/enforce), C(/etc/selinux/config)).
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
  restart_policies:
    description:
      - Fact name to systemd unit; the fact is the unit's C(Restart=) policy (absent when the
        unit is not installed).
    type: dict
    default: {}
  nfs_servers:
    description:
      - NFS servers the nodes will mount (besides those of the host's NFS mounts, always
        probed); each one that does not accept a TCP connection on port 2049 within 3 seconds
        is listed in C(nfs_unreachable).
    type: list
    elements: str
    default: []
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
    flanneld_args: [--iface=10.0.0.11, --ip-masq]
    etcd_args: []
    forward_policy: ACCEPT
    firewalld_active: false
    flannel_unit_restart: always
    ipv4_addresses: [{iface: eth0, address: 10.0.0.11, prefixlen: 24}]
    default_iface: eth0
    flannel_env: {FLANNEL_NETWORK: 172.20.0.0/16, FLANNEL_SUBNET: 172.20.3.1/24}
    resolv_conf: {/etc/resolv.conf: [10.0.0.2]}
    nfs_mounts:
      - {server: 10.0.0.40, export: /data, mountpoint: /mnt, fstype: nfs, options: [rw, vers=3]}
    nfs_unreachable: []
    docker_root: {path: /var/lib/docker, mountpoint: /, fstype: xfs, dtype: true}
    selinux: {enforce: "1", config: enforcing}
"""

import glob
import json
import os
import platform
import socket

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

# Processes whose flags the rules read: comm -> fact.
PROCESS_FACTS = {
    "kubelet": "kubelet_args",
    "kube-proxy": "kube_proxy_args",
    "flanneld": "flanneld_args",
    "etcd": "etcd_args",
}
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


def file_fields(path):
    """The whitespace-separated fields of each line of PATH, comments (#) left out; None when
    the file cannot be read."""
    text = read(path)
    if text is None:
        return None
    return [line.split("#", 1)[0].split() for line in text.splitlines()]


def fstab_swap(path="/etc/fstab"):
    """The swap entries /etc/fstab turns on at boot (not commented, type swap)."""
    lines = file_fields(path)
    if lines is None:
        return None
    return [f[0] for f in lines if len(f) >= 3 and f[2] == "swap"]


def process_args(names, proc="/proc"):
    """{name: argv[1:]} of the first running process of each NAME (its /proc/<pid>/comm);
    [] for a name with no process (it runs with no flag the rules could read)."""
    return {name: found[1] if found else [] for name, found in running(names, proc).items()}


def process_env(pid_dir, prefix):
    """{NAME: value} of a process's environment variables starting with PREFIX."""
    raw = read(os.path.join(pid_dir, "environ")) or ""
    out = {}
    for item in raw.split("\0"):
        name, sep, value = item.partition("=")
        if sep and name.startswith(prefix):
            out[name] = value
    return out


def etcd_env_flags(env, args):
    """etcd reads ETCD_FOO_BAR=x as --foo-bar=x unless the flag is given: those flags, in
    name order, for the ones ARGS lacks."""
    given = {a.split("=", 1)[0] for a in args}
    out = []
    for name in sorted(env):
        flag = "--" + name[len("ETCD_") :].lower().replace("_", "-")
        if flag not in given:
            out.append("%s=%s" % (flag, env[name]))
    return out


def running(names, proc="/proc"):
    """{name: (pid directory, argv[1:])} of the first process of each NAME, None if none."""
    found = {name: None for name in names}
    left = set(names)
    for comm_path in sorted(glob.glob(os.path.join(proc, "[0-9]*", "comm"))):
        if not left:
            break
        comm = (read(comm_path) or "").strip()
        if comm not in left:
            continue
        pid_dir = os.path.dirname(comm_path)
        raw = read(os.path.join(pid_dir, "cmdline")) or ""
        found[comm] = (pid_dir, [a for a in raw.split("\0") if a][1:])
        left.discard(comm)
    return found


def flag_value(args, flag):
    """The value of --flag=value (or --flag value) in ARGS, None without it."""
    for i, arg in enumerate(args):
        if arg.startswith(flag + "="):
            return arg[len(flag) + 1 :]
        if arg == flag and i + 1 < len(args) and not args[i + 1].startswith("-"):
            return args[i + 1]
    return None


def parse_config(text):
    """A YAML or JSON document as a dict (JSON is YAML; PyYAML when the host has it, else
    JSON, else the top-level ``key: value`` lines), None when it is neither."""
    try:
        import yaml  # noqa: PLC0415 - optional on the managed host

        data = yaml.safe_load(text)
        return data if isinstance(data, dict) else None
    except ImportError:
        pass
    except Exception:
        return None
    try:
        data = json.loads(text)
        return data if isinstance(data, dict) else None
    except ValueError:
        pass
    out = {}
    for line in text.splitlines():
        if line[:1].strip() and ":" in line and not line.lstrip().startswith("#"):
            key, _sep, value = line.partition(":")
            out[key.strip()] = value.strip().strip("\"'")
    return out or None


def ip_output(module, *args):
    """The output of ``ip ARGS...``, None without iproute2 or when it fails."""
    ip = module.get_bin_path("ip")
    if not ip:
        return None
    rc, out, _err = module.run_command([ip, *args])
    return out if rc == 0 else None


def ipv4_addresses(module):
    """[{iface, address, prefixlen}] of every IPv4 address (``ip -4 -o addr show``)."""
    out = ip_output(module, "-4", "-o", "addr", "show")
    return None if out is None else parse_ip_addr(out)


def parse_ip_addr(text):
    found = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[2] != "inet" or "/" not in fields[3]:
            continue
        address, prefixlen = fields[3].split("/", 1)
        found.append(
            {"iface": fields[1].split("@", 1)[0], "address": address, "prefixlen": int(prefixlen)}
        )
    return found


def default_iface(module):
    out = ip_output(module, "-4", "route", "show", "default")
    return None if out is None else parse_default_route(out)


def parse_default_route(text):
    for line in text.splitlines():
        fields = line.split()
        if fields[:1] == ["default"] and "dev" in fields:
            return fields[fields.index("dev") + 1]
    return ""


def env_file(path):
    """KEY=value lines of a shell environment file (flannel's subnet.env), None if absent."""
    text = read(path)
    if text is None:
        return None
    out = {}
    for line in text.splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and name and not name.startswith("#"):
            out[name] = value.strip().strip("\"'")
    return out


def nameservers(path):
    lines = file_fields(path)
    if lines is None:
        return None
    return [f[1] for f in lines if len(f) >= 2 and f[0] == "nameserver"]


def mounts(path="/proc/mounts"):
    """[(device, mountpoint, fstype, options)] of the mount table."""
    out = []
    for line in (read(path) or "").splitlines():
        fields = line.split()
        if len(fields) >= 4:
            mountpoint = fields[1].replace("\\040", " ")
            out.append((fields[0], mountpoint, fields[2], fields[3].split(",")))
    return out


def nfs_mounts(table):
    out = []
    for device, mountpoint, fstype, options in table:
        if fstype in ("nfs", "nfs4") and ":" in device:
            server, _sep, export = device.rpartition(":")
            out.append(
                {
                    "server": server.strip("[]"),
                    "export": export,
                    "mountpoint": mountpoint,
                    "fstype": fstype,
                    "options": options,
                }
            )
    return out


def tcp_unreachable(hosts, port=2049, timeout=3.0):
    down = []
    for host in hosts:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                pass
        except OSError:
            down.append(host)
    return down


# Filesystems that always return d_type (overlay2 needs it); xfs only when made with ftype=1.
DTYPE_FILESYSTEMS = frozenset(["ext3", "ext4", "btrfs", "tmpfs", "zfs", "f2fs"])


def docker_data_root(daemon_json="/etc/docker/daemon.json"):
    text = read(daemon_json)
    if text:
        try:
            conf = json.loads(text)
        except ValueError:
            conf = {}
        if isinstance(conf, dict):
            for key in ("data-root", "graph"):
                if conf.get(key):
                    return str(conf[key])
    return "/var/lib/docker"


def backing_fs(path, table):
    """(mountpoint, fstype) of the mount that holds PATH (symlinks resolved; PATH need not exist
    yet: docker's data root before docker runs lands on the mount of its parents)."""
    path = os.path.realpath(path)
    best = None
    for _device, mountpoint, fstype, _options in table:
        inside = path == mountpoint or path.startswith(mountpoint.rstrip("/") + "/")
        if inside and (best is None or len(mountpoint) >= len(best[0])):
            best = (mountpoint, fstype)
    return best


def xfs_ftype(module, mountpoint):
    """True/False: the xfs at MOUNTPOINT was made with ftype=1; None if xfs_info cannot say."""
    xfs_info = module.get_bin_path("xfs_info")
    if not xfs_info:
        return None
    rc, out, _err = module.run_command([xfs_info, mountpoint])
    if rc != 0:
        return None
    for token in out.replace(",", " ").split():
        if token.startswith("ftype="):
            return token == "ftype=1"
    return None


def docker_root(module, table):
    path = docker_data_root()
    found = backing_fs(path, table)
    if found is None:
        return None
    mountpoint, fstype = found
    dtype = True if fstype in DTYPE_FILESYSTEMS else None
    if fstype == "xfs":
        dtype = xfs_ftype(module, mountpoint)
    if fstype == "overlay":
        dtype = False  # overlay2 cannot stack on overlay
    out = {"path": path, "mountpoint": mountpoint, "fstype": fstype}
    if dtype is not None:
        out["dtype"] = dtype
    return out


def selinux_state(root="/"):
    """{enforce: "1"|"0" (absent: SELinux off), config: SELINUX= of /etc/selinux/config}."""
    out = {}
    enforce = read(os.path.join(root, "sys/fs/selinux/enforce"))
    if enforce is not None:
        out["enforce"] = enforce.strip()
    config = env_file(os.path.join(root, "etc/selinux/config"))
    if config and config.get("SELINUX"):
        out["config"] = config["SELINUX"].lower()
    return out


def restart_policy(module, systemctl, unit):
    rc, out, _err = module.run_command(
        [systemctl, "show", "--property=LoadState", "--property=Restart", str(unit)]
    )
    props = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    if rc != 0 or props.get("LoadState") != "loaded":
        return None
    return props.get("Restart")


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


def _put(out, key, value):
    if value is not None:
        out[key] = value


def kernel_facts(module, params):
    """Kernel, sysctls, modules, packages, swap, SELinux."""
    host = {
        "kernel": platform.release(),
        "sysctl": sysctl_values(params["sysctls"]),
        "persisted_sysctls": persisted_sysctls(),
        "modules": available_modules(module, params["modules"]),
        "selinux": selinux_state(),
    }
    cmdline = read("/proc/cmdline")
    _put(host, "cmdline", cmdline.strip() if cmdline is not None else None)
    _put(host, "packages", package_versions(module, params["packages"]))
    _put(host, "swap_mb", swap_mb())
    _put(host, "swap_fstab", fstab_swap())
    return host


def process_facts(proc="/proc"):
    """The flags of kubelet, kube-proxy, flanneld and etcd, kube-proxy's --config file, and
    the nameservers of the resolv.conf files kubelet may read."""
    procs = running(list(PROCESS_FACTS), proc)
    host = {
        fact: list(procs[name][1]) if procs[name] else [] for name, fact in PROCESS_FACTS.items()
    }
    if procs["etcd"]:
        env = process_env(procs["etcd"][0], "ETCD_")
        host["etcd_args"] += etcd_env_flags(env, host["etcd_args"])
    proxy_config = flag_value(host["kube_proxy_args"], "--config")
    if proxy_config:
        _put(host, "kube_proxy_config", parse_config(read(proxy_config) or ""))
    host["resolv_conf"] = {}
    for path in ("/etc/resolv.conf", flag_value(host["kubelet_args"], "--resolv-conf")):
        _put(host["resolv_conf"], path, nameservers(path) if path else None)
    return host


def network_facts(module):
    """Addresses, the default route's interface, flannel's subnet.env, the FORWARD policy."""
    host = {}
    addresses = ipv4_addresses(module)
    if addresses is not None:
        host["ipv4_addresses"] = addresses
        host["default_iface"] = default_iface(module) or ""
    _put(host, "flannel_env", env_file("/run/flannel/subnet.env"))
    _put(host, "forward_policy", forward_policy(module))
    return host


def storage_facts(module, nfs_servers):
    """NFS mounts and servers that do not answer; docker's data root filesystem."""
    table = mounts()
    host = {"nfs_mounts": nfs_mounts(table)}
    probe = [*nfs_servers, *(m["server"] for m in host["nfs_mounts"])]
    host["nfs_unreachable"] = tcp_unreachable(list(dict.fromkeys(probe)))
    _put(host, "docker_root", docker_root(module, table))
    return host


def unit_facts(module, units, restart_policies):
    host = {}
    systemctl = module.get_bin_path("systemctl")
    if not systemctl:
        return host
    for fact, unit in units.items():
        _rc, out, _err = module.run_command([systemctl, "is-active", str(unit)])
        host[fact] = out.strip() == "active"
    for fact, unit in restart_policies.items():
        _put(host, fact, restart_policy(module, systemctl, unit))
    return host


def main():
    module = AnsibleModule(
        argument_spec=dict(
            sysctls=dict(type="list", elements="str", default=[]),
            modules=dict(type="list", elements="str", default=[]),
            packages=dict(type="dict", default={}),
            units=dict(type="dict", default={}),
            restart_policies=dict(type="dict", default={}),
            nfs_servers=dict(type="list", elements="str", default=[]),
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

    host = kernel_facts(module, params)
    host.update(process_facts())
    host.update(network_facts(module))
    host.update(storage_facts(module, params["nfs_servers"]))
    host.update(unit_facts(module, params["units"], params["restart_policies"]))

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
