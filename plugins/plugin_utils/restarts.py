# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which of a role's services restart after a run's changes. Pure Python, no Ansible import
(filter ``kubebin.cluster.services_to_restart``).

A service restarts when one of its files was written (template_files' ``services``), when one
of the certificates or keys it reads changed this run (the pki role's ``pki_changed_files``,
absolute paths on the host), or, every one of them, when its binary was replaced.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping


class RestartsError(ValueError):
    """An input that cannot say what to restart."""


def services_to_restart(
    services, *, written=(), cert_files=None, cert_dir="", changed_files=(), new_binary=False
):
    """The SERVICES (in their order) to restart.

    WRITTEN: services whose files changed; CERT_FILES: {service: [file names in CERT_DIR]};
    CHANGED_FILES: absolute paths changed this run; NEW_BINARY: every service restarts.
    """
    services = list(services or [])
    if new_binary:
        return services
    cert_files = cert_files or {}
    if not isinstance(cert_files, Mapping):
        raise RestartsError(
            "cert_files must map each service to the file names it reads (got %r)" % (cert_files,)
        )
    unknown = sorted(set(cert_files) - set(services))
    if unknown:
        raise RestartsError(
            "cert_files names %s, not among the services %s" % (", ".join(unknown), services)
        )
    if cert_files and not str(cert_dir).startswith("/"):
        raise RestartsError("cert_dir must be an absolute directory (got %r)" % (cert_dir,))
    changed = set(changed_files or [])
    touched = set(written or [])
    for service, names in cert_files.items():
        if any(posixpath.join(str(cert_dir), str(name)) in changed for name in names or []):
            touched.add(service)
    return [service for service in services if service in touched]
