# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Environments and teams: the namespaces the inventory asks for and who may use them.

Inputs are cluster settings (``cluster_environments``, ``cluster_environment_quota``,
``cluster_environment_limits``, ``cluster_teams``); the cluster model carries the result
(``environments``, ``teams``), and every role reads it there: pki makes each team's client
certificate and kubeconfig, the teams role applies the namespaces, quotas, limit ranges and
role bindings (``manifest``), the developers' CLI lists the contexts.

A team's rights go to its *group* (the certificate's O), ``kubebin:team:<name>:<generation>``,
never to its user: raising ``generation`` issues a certificate with the new group and moves
the bindings to it, so a leaked certificate of an earlier generation keeps authenticating but
is authorised for nothing (Kubernetes 1.10 has no certificate revocation list).
"""

from __future__ import annotations

import re

from . import kube_files

ACCESS_ROLES = {"admin": "admin", "edit": "edit", "view": "view"}
NO_ACCESS = "none"
DEFAULT_ENVIRONMENTS = ["dev", "test", "stage", "prod"]
MANAGED_BY = "kubebin-teams"
LABEL_MANAGED = "kubebin.io/managed-by"
LABEL_TEAM = "kubebin.io/team"
# <team>.<role>: a binding's roleRef cannot change, so a new role is a new binding.
LABEL_BINDING = "kubebin.io/binding"
LABEL_ENV = "kubebin.io/environment"
_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")


class TeamsError(ValueError):
    """A cluster_environments / cluster_teams entry that cannot work; names the setting."""


def _name(value, where):
    text = str(value)
    if not _NAME.match(text) or len(text) > 40:
        raise TeamsError(
            "%s: %r is not a valid name (lower-case letters, digits and '-', starting and"
            " ending with a letter or digit, at most 40 characters)" % (where, value)
        )
    return text


def environments(envs, quota=None, limits=None):
    """{name: {namespace, quota, limits, labels}} for cluster_environments: names, or
    ``{name, namespace, quota, limits}`` (their own quota/limits replace the defaults')."""
    if envs is None:
        envs = DEFAULT_ENVIRONMENTS
    if not isinstance(envs, list):
        raise TeamsError("cluster_environments: a list of names or {name, ...}, got %r" % (envs,))
    out = {}
    namespaces = set()
    for i, entry in enumerate(envs):
        where = "cluster_environments[%d]" % i
        spec = {"name": entry} if isinstance(entry, str) else entry
        if not isinstance(spec, dict) or "name" not in spec:
            raise TeamsError(
                "%s: a name or {name, namespace, quota, limits}, got %r" % (where, entry)
            )
        unknown = set(spec) - {"name", "namespace", "quota", "limits"}
        if unknown:
            raise TeamsError("%s: unknown keys %s" % (where, sorted(unknown)))
        name = _name(spec["name"], where + ".name")
        namespace = _name(spec.get("namespace") or name, where + ".namespace")
        if name in out or namespace in namespaces:
            raise TeamsError(
                "%s: environment %s or namespace %s appears twice" % (where, name, namespace)
            )
        namespaces.add(namespace)
        out[name] = {
            "namespace": namespace,
            "quota": dict(spec.get("quota", quota) or {}),
            "limits": dict(spec.get("limits", limits) or {}),
            "labels": {LABEL_ENV: name, LABEL_MANAGED: MANAGED_BY},
        }
    return out


def teams(entries, envs):
    """{name: {cn, group, generation, bindings: [{namespace, role}], namespaces}} for
    cluster_teams entries ``{name, access: {environment: admin|edit|view|none}, namespaces:
    {namespace: role}, generation}``. An environment the team's access does not name is none."""
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise TeamsError("cluster_teams: a list of {name, access, ...}, got %r" % (entries,))
    env_namespaces = {e["namespace"] for e in envs.values()}
    out = {}
    for i, spec in enumerate(entries):
        where = "cluster_teams[%d]" % i
        if not isinstance(spec, dict) or "name" not in spec:
            raise TeamsError("%s: needs at least a name ({name, access}), got %r" % (where, spec))
        unknown = set(spec) - {"name", "access", "namespaces", "generation"}
        if unknown:
            raise TeamsError("%s: unknown keys %s" % (where, sorted(unknown)))
        name = _name(spec["name"], where + ".name")
        if name in out:
            raise TeamsError("%s: team %s appears twice" % (where, name))
        generation = spec.get("generation", 1)
        if isinstance(generation, bool) or not str(generation).isdigit() or int(generation) < 1:
            raise TeamsError("%s.generation: %r is not a positive integer" % (where, generation))
        access = spec.get("access") or {}
        if not isinstance(access, dict):
            raise TeamsError(
                "%s.access: {environment: admin|edit|view|none}, got %r" % (where, access)
            )
        bindings = []
        for env, level in sorted(access.items()):
            if env not in envs:
                raise TeamsError(
                    "%s.access: %s is not an environment of cluster_environments (%s)"
                    % (where, env, ", ".join(envs))
                )
            bindings.append((envs[env]["namespace"], _role(level, "%s.access.%s" % (where, env))))
        for namespace, level in sorted((spec.get("namespaces") or {}).items()):
            ns = _name(namespace, where + ".namespaces")
            if ns in env_namespaces:
                raise TeamsError(
                    "%s.namespaces: %s is an environment's namespace; give its access in"
                    " access instead" % (where, ns)
                )
            bindings.append((ns, _role(level, "%s.namespaces.%s" % (where, ns))))
        granted = [{"namespace": ns, "role": role} for ns, role in bindings if role]
        out[name] = {
            "cn": "team:%s" % name,
            "group": "kubebin:team:%s:%d" % (name, int(generation)),
            "generation": int(generation),
            "bindings": granted,
            "namespaces": [b["namespace"] for b in granted],
        }
    return out


def _role(level, where):
    text = str(level)
    if text == NO_ACCESS:
        return None
    if text not in ACCESS_ROLES:
        raise TeamsError(
            "%s: %r is not one of %s" % (where, level, ", ".join([*ACCESS_ROLES, NO_ACCESS]))
        )
    return ACCESS_ROLES[text]


def objects(envs, team_map):
    """The Kubernetes objects: each environment's Namespace, ResourceQuota and LimitRange,
    each extra namespace a team uses, and one RoleBinding per team and namespace."""
    meta_labels = {LABEL_MANAGED: MANAGED_BY}
    out = []
    env_ns = {e["namespace"] for e in envs.values()}
    for env in envs.values():
        ns = env["namespace"]
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": ns, "labels": env["labels"]},
            }
        )
        if env["quota"]:
            out.append(
                {
                    "apiVersion": "v1",
                    "kind": "ResourceQuota",
                    "metadata": {"name": "environment", "namespace": ns, "labels": meta_labels},
                    "spec": {"hard": {k: str(v) for k, v in sorted(env["quota"].items())}},
                }
            )
        if env["limits"]:
            limit = {"type": "Container"}
            for key, value in sorted(env["limits"].items()):
                limit[key] = (
                    {k: str(v) for k, v in sorted(value.items())}
                    if isinstance(value, dict)
                    else value
                )
            out.append(
                {
                    "apiVersion": "v1",
                    "kind": "LimitRange",
                    "metadata": {"name": "environment", "namespace": ns, "labels": meta_labels},
                    "spec": {"limits": [limit]},
                }
            )
    extra = sorted({b["namespace"] for t in team_map.values() for b in t["bindings"]} - env_ns)
    for ns in extra:
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": ns, "labels": meta_labels},
            }
        )
    for team, spec in sorted(team_map.items()):
        for binding in spec["bindings"]:
            out.append(
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "RoleBinding",
                    "metadata": {
                        "name": "team-%s-%s" % (team, binding["role"]),
                        "namespace": binding["namespace"],
                        "labels": {
                            LABEL_MANAGED: MANAGED_BY,
                            LABEL_TEAM: team,
                            LABEL_BINDING: "%s.%s" % (team, binding["role"]),
                        },
                    },
                    "roleRef": {
                        "apiGroup": "rbac.authorization.k8s.io",
                        "kind": "ClusterRole",
                        "name": binding["role"],
                    },
                    "subjects": [
                        {
                            "apiGroup": "rbac.authorization.k8s.io",
                            "kind": "Group",
                            "name": spec["group"],
                        }
                    ],
                }
            )
    return out


def manifest(envs, team_map):
    """``objects`` as one multi-document YAML file."""
    return "".join("---\n" + kube_files.yaml_text(obj) for obj in objects(envs, team_map))


def stale_bindings(envs, team_map):
    """What removes the bindings of teams no longer in the inventory, and bindings a team no
    longer has in a namespace: ``[{kind, namespace, selector}]`` for kube_apply's prune, one
    per namespace the collection manages (its environments and the teams' extra ones)."""
    namespaces = sorted(
        {e["namespace"] for e in envs.values()}
        | {b["namespace"] for t in team_map.values() for b in t["bindings"]}
    )
    out = []
    for ns in namespaces:
        keep = sorted(
            "%s.%s" % (team, b["role"])
            for team, spec in team_map.items()
            for b in spec["bindings"]
            if b["namespace"] == ns
        )
        selector = "%s=%s" % (LABEL_MANAGED, MANAGED_BY)
        if keep:
            selector += ",%s notin (%s)" % (LABEL_BINDING, ",".join(keep))
        out.append({"kind": "rolebinding", "namespace": ns, "selector": selector})
    return out
