# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which packages a host has installed, by exact name (dpkg or rpm): shared by the packages
module and host_facts (which records the whole list once per run, so the packages action
plugin can skip a module run for packages known to be there)."""

from __future__ import annotations

# The fact host_facts sets and the packages action plugin reads and extends.
FACT = "kubebin_installed_packages"


def installed(module, names=None):
    """The names among NAMES (all installed packages when None) that are installed, from dpkg
    where apt-get is the package manager, else rpm; None when the host has neither."""
    query = module.get_bin_path("apt-get") and module.get_bin_path("dpkg-query")
    if query:
        argv = [query, "-W", "-f=${db:Status-Abbrev} ${binary:Package}\n"]
        out = module.run_command(argv + list(names or []))[1]
        found = set()
        for line in out.splitlines():
            fields = line.split()
            if len(fields) >= 2 and fields[0] == "ii":
                found.add(fields[-1].split(":")[0])
        return found
    rpm = module.get_bin_path("rpm")
    if rpm:
        argv = [rpm, "-q", "--qf", "ii %{NAME}\n", *(names or [])]
        if not names:
            argv.insert(1, "-a")
        out = module.run_command(argv)[1]
        return set(line.split()[1] for line in out.splitlines() if line.startswith("ii "))
    return None
