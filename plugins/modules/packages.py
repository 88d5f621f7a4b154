#!/usr/bin/python
# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: packages
short_description: Make sure OS packages are installed, asking the package database first
version_added: "0.1.0"
description:
  - Asks the package database (C(dpkg-query) on Debian, C(rpm) on RedHat) which of O(names)
    are installed - one quick command - and runs the package manager only for the missing
    ones (C(apt-get install) after C(apt-get update) when the lists are older than
    O(cache_valid_time); C(dnf) or C(yum install) on RedHat).
  - A converged host costs one short module run; M(ansible.builtin.apt) loads the whole
    package cache every time, even with nothing to do.
  - A name the database does not know (a version pin such as C(docker.io=20.10*), a virtual
    package) counts as missing, so the package manager decides.
  - Supports check mode (reports the missing packages, installs nothing).
  - When this run already knows the host's installed packages (the fact
    C(kubebin_installed_packages) from M(kubebin.cluster.host_facts), as preflight gathers it)
    and has all of O(names), the action plugin answers without a module run; after an install
    the fact gains the names.
options:
  names:
    description: The packages.
    type: list
    elements: str
    required: true
  cache_valid_time:
    description: Seconds the apt lists stay fresh enough to install from (Debian).
    type: int
    default: 3600
  install_recommends:
    description: Install recommended packages as well (Debian).
    type: bool
    default: false
author:
  - kubebin.cluster maintainers (@kubebin)
"""

EXAMPLES = r"""
- name: Install the node packages
  kubebin.cluster.packages:
    names: [conntrack, ipset, ipvsadm, socat]
"""

RETURN = r"""
missing:
  description: The packages that were not installed (and were installed by this run, or would be).
  returned: always
  type: list
  elements: str
manager:
  description: The package manager used (apt-get, dnf or yum).
  returned: when the module ran
  type: str
"""

import glob
import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubebin.cluster.plugins.module_utils.packages import installed

APT_LISTS = "/var/lib/apt/lists"
APT_STAMP = "/var/lib/apt/periodic/update-success-stamp"


def lists_stale(valid_time, lists=APT_LISTS, stamp=APT_STAMP):
    """Whether apt must update first: no package lists at all (a fresh image whose lists were
    removed has a recent directory but nothing in it), or lists older than VALID_TIME."""
    if not glob.glob(os.path.join(lists, "*_Packages*")):
        return True
    marks = [path for path in (stamp, lists) if os.path.exists(path)]
    age = min(time.time() - os.stat(path).st_mtime for path in marks)
    return age > valid_time


def run(module, argv, env=None):
    rc, out, err = module.run_command(argv, environ_update=env or {})
    if rc != 0:
        module.fail_json(
            msg="%s failed (rc %d): %s" % (" ".join(argv), rc, (err or out).strip()[-2000:])
        )


def apt_install(module, apt_get, missing):
    """apt-get install MISSING, updating the lists first when stale - or when a package is not
    found in lists that were thought fresh (then once more after an update)."""
    env = dict(DEBIAN_FRONTEND="noninteractive")
    updated = lists_stale(module.params["cache_valid_time"])
    if updated:
        run(module, [apt_get, "update", "-q"], env)
    argv = [apt_get, "install", "-y", "-q", "-o", "DPkg::Lock::Timeout=120"]
    argv += ["-o", "Dpkg::Options::=--force-confold", "-o", "Dpkg::Options::=--force-confdef"]
    recommends = module.params["install_recommends"]
    argv.append("--install-recommends" if recommends else "--no-install-recommends")
    rc, out, err = module.run_command(argv + missing, environ_update=env)
    if rc != 0 and not updated and "Unable to locate package" in err + out:
        run(module, [apt_get, "update", "-q"], env)
        rc, out, err = module.run_command(argv + missing, environ_update=env)
    if rc != 0:
        module.fail_json(
            msg="%s failed (rc %d): %s"
            % (" ".join(argv + missing), rc, (err or out).strip()[-2000:])
        )


def main():
    module = AnsibleModule(
        argument_spec=dict(
            names=dict(type="list", elements="str", required=True),
            cache_valid_time=dict(type="int", default=3600),
            install_recommends=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    names = module.params["names"]
    apt_get = module.get_bin_path("apt-get")
    if apt_get:
        manager = "apt-get"
    else:
        manager = module.get_bin_path("dnf") or module.get_bin_path("yum")
        if not manager:
            module.fail_json(msg="no apt-get, dnf or yum on this host")
        manager = os.path.basename(manager)
    have = installed(module, names)
    if have is None:
        module.fail_json(msg="neither dpkg-query nor rpm on this host")
    missing = [n for n in names if n not in have]
    if missing and not module.check_mode:
        if apt_get:
            apt_install(module, apt_get, missing)
        else:
            run(module, [module.get_bin_path(manager), "install", "-y", *missing])
    module.exit_json(changed=bool(missing), missing=missing, manager=manager)


if __name__ == "__main__":
    main()
