# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The artifacts plan: where each release artifact comes from, how it is verified, where it
is cached on the controller and where its files go on a host. Pure Python, no Ansible import:
the filters in ``plugins/filter/artifacts.py`` are thin wrappers (role ``artifacts``). Only
``cached_names`` reads files (the controller's cache markers).

Every error is an :class:`ArtifactsError` naming the value and the fix.
"""

from __future__ import annotations

import json
import os
import posixpath
import re

__all__ = [
    "ArtifactsError",
    "bad_install_files",
    "cached_names",
    "expected_checksums",
    "image_load_args",
    "install_set",
    "mirror_kind",
    "mismatches",
    "plan",
]

_TAR_EXT = re.compile(r"\.tar(\.[A-Za-z0-9]+)?$")


class ArtifactsError(ValueError):
    """An artifact request or table entry that cannot be planned."""


def mirror_kind(base):
    """'none' (no mirror), 'url' (http/https base), 'dir' (absolute directory) or 'invalid'."""
    base = str(base or "").strip().rstrip("/")
    if not base:
        return "none"
    if re.match(r"https?://", base):
        return "url"
    if base.startswith("/"):
        return "dir"
    return "invalid"


def _entry(table, name):
    if not isinstance(table, dict):
        raise ArtifactsError("table: %r is not the artifact table (a dictionary)" % (table,))
    if name not in table:
        raise ArtifactsError(
            "%r is not in the artifact table; known artifacts: %s"
            % (name, ", ".join(sorted(table)))
        )
    entry = table[name]
    if not isinstance(entry, dict) or entry.get("kind") not in ("archive", "image"):
        raise ArtifactsError("table[%s]: needs kind archive or image (got %r)" % (name, entry))
    return entry


def _source(entry, version, base):
    """(src, checksum, checksum_url, checksum_key) for the mirror or the upstream source."""
    if mirror_kind(base) == "none":
        upstream = entry.get("upstream") or {}
        src = str(upstream.get("url") or "").strip()
        checksum = str((upstream.get("checksums") or {}).get(version) or "").strip()
        checksum_url = "" if checksum else str(upstream.get("checksum_url") or "").strip()
        return src, checksum, checksum_url, posixpath.basename(src)
    base = str(base).strip().rstrip("/")
    mirror = str(entry.get("mirror") or "")
    return base + "/" + mirror, "", base + "/SHA256SUMS", mirror


def plan(table, request, mirror_base, cache_root, marker_name=".kubebin-artifact.json"):
    """One item per requested artifact (each once, in request order), every path worked out.

    Item keys: name, kind, version, image, src ('' = no source), remote, file, checksum (a
    pinned "algo:hex" or ''), checksum_url (the list to read, '' when pinned or none),
    checksum_key (the line to find in that list), cache_dir, fetch_path (the file verified:
    the download in cache_dir, or the mirror's own file read in place), marker, members (what
    to extract; the file itself for images), paths (installable name -> path in the cache).
    """
    if mirror_kind(mirror_base) == "invalid":
        raise ArtifactsError(
            "mirror: %r is neither an absolute directory nor an http(s) base URL" % (mirror_base,)
        )
    cache_root = str(cache_root).rstrip("/")
    items = []
    for name in dict.fromkeys(request or []):
        entry = _entry(table, name)
        version = str(entry.get("version", ""))
        src, checksum, checksum_url, checksum_key = _source(entry, version, mirror_base)
        file = posixpath.basename(src)
        remote = bool(re.match(r"https?://", src))
        cache_dir = "%s/%s/%s" % (cache_root, name, version)
        if entry["kind"] == "archive":
            prefix = (str(entry["dir"]) + "/") if entry.get("dir") else ""
            members = [prefix + f for f in entry.get("files") or []]
            paths = {f: cache_dir + "/" + m for f, m in zip(entry.get("files") or [], members)}
        else:
            members = [file]
            paths = {file: cache_dir + "/" + file}
        items.append(
            {
                "name": name,
                "kind": entry["kind"],
                "version": version,
                "image": entry.get("image", ""),
                "src": src,
                "remote": remote,
                "file": file,
                "checksum": checksum,
                "checksum_url": checksum_url,
                "checksum_key": checksum_key,
                "cache_dir": cache_dir,
                "fetch_path": (cache_dir + "/" + file) if remote else src,
                "marker": cache_dir + "/" + marker_name,
                "members": members,
                "paths": paths,
            }
        )
    return items


def expected_checksums(items, texts):
    """{name: "algo:hex"} for each plan item: its pinned sum, else the line of its checksum
    list naming checksum_key (``<sha256>  [*][./]<name>``), else a file holding one sha256;
    '' when the list has no line for it."""
    texts = texts or {}
    out = {}
    for item in items:
        if item.get("checksum"):
            out[item["name"]] = str(item["checksum"]).lower()
            continue
        text = str(texts.get(item.get("checksum_url"), "") or "")
        key = re.escape(str(item.get("checksum_key", "")))
        listed = re.findall(r"(?m)^\s*([0-9a-fA-F]{64})[ \t]+\*?(?:\./)?" + key + r"\s*$", text)
        single = re.findall(r"^\s*([0-9a-fA-F]{64})\s*$", text)
        found = (listed + single + [""])[0].lower()
        out[item["name"]] = ("sha256:" + found) if found else ""
    return out


def cached_names(items, expected):
    """The names of the plan ITEMS whose cache on the controller is complete: the marker file
    names the EXPECTED checksum and every file of the item is there. An unreadable marker is
    an incomplete cache (fetched again), not an error."""
    out = []
    for item in items or []:
        try:
            with open(item["marker"], encoding="utf-8") as handle:
                marker = json.load(handle)
        except (OSError, ValueError):
            continue
        if not isinstance(marker, dict) or marker.get("checksum", "") != expected.get(item["name"]):
            continue
        if all(os.path.isfile(path) for path in (item.get("paths") or {}).values()):
            out.append(item["name"])
    return out


def image_load_args(names, installed, registry, changed):
    """The arguments of the runtime's image load script for the image artifacts NAMES:
    ``force`` when one of them was replaced this run (CHANGED: artifact names), else ``keep``;
    then for each image its tarball, the reference it loads as, and its alias under REGISTRY
    (the reference with its registry host replaced)."""
    args = []
    for name in names or []:
        if name not in (installed or {}):
            raise ArtifactsError(
                "image %s was not installed on this host (add it to the install request"
                " before loading it)" % name
            )
        image = installed[name]
        if not image.get("image") or not image.get("path"):
            raise ArtifactsError("%s is not an image artifact (no image or path)" % name)
        ref = str(image["image"])
        alias = "%s/%s" % (str(registry).rstrip("/"), re.sub(r"^[^/]+/", "", ref))
        args += [image["path"], ref, alias]
    replaced = [n for n in names or [] if n in (changed or [])]
    return (["force"] if replaced else ["keep"]) + args


def mismatches(results, expected):
    """The verified items whose checksum differs from the expected one.

    ``results`` are stat results with their plan item (``{item, stat: {exists, checksum}}``,
    a loop's ``results``; skipped ones are ignored). Each mismatch is the item plus expected,
    actual and a one-line report.
    """
    out = []
    for result in results or []:
        if result.get("skipped"):
            continue
        item = result["item"]
        want = expected[item["name"]]
        stat = result.get("stat") or {}
        got = (
            "%s:%s" % (want.split(":")[0], stat.get("checksum"))
            if stat.get("exists")
            else "no such file"
        )
        if got != want:
            report = "%s (%s) expected %s (from %s), actual %s" % (
                item["file"],
                item["src"],
                want,
                item.get("checksum_url") or "the pinned table entry",
                got,
            )
            out.append(dict(item, expected=want, actual=got, report=report))
    return out


def bad_install_files(table, install):
    """``"artifact: file"`` for each requested file the artifact does not have."""
    out = []
    for request in install or []:
        if request.get("artifact") not in (table or {}):
            continue
        have = table[request["artifact"]].get("files") or []
        out += [
            "%s: %s" % (request["artifact"], f) for f in request.get("files") or [] if f not in have
        ]
    return out


def install_set(verified, install, install_root, link_dir, images_dir):
    """What a host gets for ``install`` (``[{artifact, files}]``, files empty = all of them).

    Returns ``{files, dirs, installed}``: ``files`` for kubebin.cluster.install_files (binaries
    0755 in ``<install_root>/<name>-<version>/bin`` linked from ``link_dir``, then image
    tarballs 0644 as ``<images_dir>/<name>-<version>.tar[.ext]``, each once), ``dirs`` the
    directories they go to, ``installed`` the record per artifact (version, bin_dir, files,
    links; images: version, image, path).
    """
    files, dirs, installed, seen = [], [], {}, set()
    names = [r["artifact"] for r in install or []]
    for request in install or []:
        if request["artifact"] not in verified:
            raise ArtifactsError(
                "%s is not in this run's verified plan (the artifacts layer fetches it first)"
                % request["artifact"]
            )
        item = verified[request["artifact"]]
        if item["kind"] != "archive":
            if request.get("files"):
                raise ArtifactsError(
                    "artifacts_install asks image %s for files (%s); images take none"
                    % (item["name"], ", ".join(request["files"]))
                )
            continue
        bin_dir = "%s/%s-%s/bin" % (str(install_root).rstrip("/"), item["name"], item["version"])
        record = installed.setdefault(
            item["name"], {"version": item["version"], "bin_dir": bin_dir, "files": {}, "links": {}}
        )
        if bin_dir not in dirs:
            dirs.append(bin_dir)
        unknown = [f for f in request.get("files") or [] if f not in item["paths"]]
        if unknown:
            raise ArtifactsError(
                "artifacts_install asks %s for %s, which it does not have; it has %s"
                % (item["name"], ", ".join(unknown), ", ".join(sorted(item["paths"])))
            )
        for f in request.get("files") or list(item["paths"]):
            dest = bin_dir + "/" + f
            link = str(link_dir).rstrip("/") + "/" + f
            record["files"][f] = dest
            record["links"][f] = link
            if dest not in seen:
                seen.add(dest)
                files.append(
                    {
                        "artifact": item["name"],
                        "src": item["paths"][f],
                        "dest": dest,
                        "link": link,
                        "mode": "0755",
                    }
                )
    for item in verified.values():
        if item["kind"] != "image" or item["name"] not in names:
            continue
        match = _TAR_EXT.search(item["file"])
        dest = "%s/%s-%s%s" % (
            str(images_dir).rstrip("/"),
            item["name"],
            item["version"],
            match.group(0) if match else ".tar",
        )
        files.append(
            {
                "artifact": item["name"],
                "src": item["paths"][item["file"]],
                "dest": dest,
                "mode": "0644",
            }
        )
        installed[item["name"]] = {"version": item["version"], "image": item["image"], "path": dest}
        if str(images_dir) not in dirs:
            dirs.append(str(images_dir))
    return {"files": files, "dirs": dirs, "installed": installed}
