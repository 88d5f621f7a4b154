# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The artifacts plan filters: thin wrappers over plugins/plugin_utils/artifacts.py.

Each filter's documentation is in ``<filter name>.yml`` next to this file.
"""

from __future__ import annotations

from functools import wraps

from ansible.errors import AnsibleFilterError

from ansible_collections.kubebin.cluster.plugins.plugin_utils import artifacts as core


def _wrap(func, name):
    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except core.ArtifactsError as exc:
            raise AnsibleFilterError("kubebin.cluster.%s: %s" % (name, exc)) from exc

    wrapper.__name__ = name
    return wrapper


class FilterModule:
    """The artifacts plan: sources, checksums, cache paths, what a host gets."""

    def filters(self):
        return {
            "artifacts_plan": _wrap(core.plan, "artifacts_plan"),
            "artifacts_expected": _wrap(core.expected_checksums, "artifacts_expected"),
            "artifacts_mismatches": _wrap(core.mismatches, "artifacts_mismatches"),
            "artifacts_install": _wrap(core.install_set, "artifacts_install"),
            "artifacts_bad_files": _wrap(core.bad_install_files, "artifacts_bad_files"),
            "artifacts_mirror_kind": _wrap(core.mirror_kind, "artifacts_mirror_kind"),
            "artifacts_cached": _wrap(core.cached_names, "artifacts_cached"),
            "artifacts_image_load_args": _wrap(core.image_load_args, "artifacts_image_load_args"),
        }
