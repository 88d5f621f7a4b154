# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Environments and teams: thin Ansible wrapper over plugin_utils.teams."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.kubebin.cluster.plugins.plugin_utils import teams


def _parts(model, name):
    try:
        return model["environments"], model["teams"]
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError(
            "kubebin.cluster.%s: not the cluster model (no %s); run playbooks/cluster_model.yml"
            " first" % (name, exc)
        ) from exc


def teams_manifest(model):
    """The environments' namespaces, quotas and limit ranges and the teams' role bindings, as
    one multi-document YAML text."""
    return teams.manifest(*_parts(model, "teams_manifest"))


def teams_prune(model):
    """kube_apply's prune entries: the bindings of teams (or team roles) no longer in the
    inventory, in every namespace the collection manages."""
    return teams.stale_bindings(*_parts(model, "teams_prune"))


class FilterModule:
    """Environments and teams."""

    def filters(self):
        return {"teams_manifest": teams_manifest, "teams_prune": teams_prune}
