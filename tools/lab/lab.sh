#!/usr/bin/env bash
# kubebin lab: real systemd hosts, as docker containers, on one machine.
#
#   lab.sh docker-env        ensure a docker daemon; print `export DOCKER_HOST=...`
#   lab.sh docker-up|docker-down
#   lab.sh image             build (or reuse) the systemd base image
#   lab.sh up                daemon + image + network + every host of inventories/lab
#   lab.sh destroy           remove the lab hosts and network; stop the daemon if we started it
#   lab.sh status            what runs now
#   lab.sh exec CMD...       run CMD with DOCKER_HOST set (starting the daemon if needed)
#   lab.sh host-create NAME PROFILE NETWORK [IP [SUBNET]]   one host (molecule's create)
#   lab.sh host-remove NETWORK NAME...             remove hosts (molecule's destroy step)
#   lab.sh net-connect NAME NETWORK [IP [SUBNET]]  connect a host to one more network
#   lab.sh net-remove NETWORK...                   remove networks no host uses any more
#   lab.sh sysctl-save|sysctl-restore [NAME]
#                            snapshot / restore the host-global sysctls lab hosts may change
#
# A docker daemon already running (DOCKER_HOST or /var/run/docker.sock) is used as it is.
# Otherwise Debian's dockerd is started by hand with its socket, data, exec root and pid file
# under the state dir (.state/lab, git-ignored) and only that daemon is ever stopped here.
# Lab-only settings (capabilities, volumes) are documented in tools/lab/README.md.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
STATE=${KUBEBIN_LAB_STATE:-$ROOT/.state/lab}
IMAGE=${KUBEBIN_LAB_IMAGE:-kubebin-lab:debian12}
NET=${KUBEBIN_LAB_NET:-kubebin-lab}
SUBNET=${KUBEBIN_LAB_SUBNET:-10.231.0.0/24}
PY=${KUBEBIN_PYTHON:-$ROOT/.venv/bin/python}
DSTATE=$STATE/docker
OWN_SOCK=$DSTATE/docker.sock

log() { printf '[lab] %s\n' "$*" >&2; }

docker_ok() { DOCKER_HOST=$1 timeout 10 docker info >/dev/null 2>&1; }

# Print the DOCKER_HOST of a daemon that answers now, or fail.
docker_find() {
  if [ -n "${DOCKER_HOST:-}" ] && docker_ok "$DOCKER_HOST"; then echo "$DOCKER_HOST"; return; fi
  if [ -S /var/run/docker.sock ] && docker_ok unix:///var/run/docker.sock; then
    echo unix:///var/run/docker.sock; return
  fi
  if [ -S "$OWN_SOCK" ] && docker_ok "unix://$OWN_SOCK"; then echo "unix://$OWN_SOCK"; return; fi
  return 1
}

docker_up() {
  docker_find && return
  command -v dockerd >/dev/null || { log "no docker daemon runs and dockerd is not installed (apt-get install docker.io)"; exit 1; }
  mkdir -p "$DSTATE/data" "$DSTATE/exec"
  rm -f "$OWN_SOCK" "$DSTATE/docker.pid"
  log "starting dockerd (socket $OWN_SOCK, log $DSTATE/dockerd.log)"
  setsid dockerd -H "unix://$OWN_SOCK" \
    --data-root "$DSTATE/data" --exec-root "$DSTATE/exec" \
    --pidfile "$DSTATE/docker.pid" --storage-driver overlay2 \
    --default-address-pool base=10.240.0.0/16,size=24 \
    >"$DSTATE/dockerd.log" 2>&1 </dev/null &
  echo $! > "$DSTATE/started-by-lab"
  for _ in $(seq 1 60); do
    if docker_ok "unix://$OWN_SOCK"; then echo "unix://$OWN_SOCK"; return; fi
    sleep 0.5
  done
  log "dockerd did not come up; last lines of its log:"; tail -20 "$DSTATE/dockerd.log" >&2; exit 1
}

docker_down() {
  [ -f "$DSTATE/started-by-lab" ] || { log "no docker daemon started by the lab"; return 0; }
  local pid; pid=$(cat "$DSTATE/docker.pid" 2>/dev/null || cat "$DSTATE/started-by-lab")
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping the dockerd the lab started (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  rm -f "$DSTATE/started-by-lab"
}

# Lab hosts share the machine's kernel: sysctls that are not per network namespace
# (inotify limits, and what kubelet sets: overcommit, panic) change the machine itself.
# `up` and the molecule runs snapshot them once; `destroy` puts them back.
HOST_SYSCTLS="fs/inotify/max_user_watches fs/inotify/max_user_instances fs/may_detach_mounts
  vm/overcommit_memory kernel/panic kernel/panic_on_oops"
# A second argument names another snapshot (the molecule runs use their own).
SYSCTL_SNAPSHOT=$STATE/host-sysctls${2:+.$2}

sysctl_save() {
  [ -s "$SYSCTL_SNAPSHOT" ] && return 0
  mkdir -p "$STATE"
  for key in $HOST_SYSCTLS; do
    [ -r "/proc/sys/$key" ] && printf '%s %s\n' "$key" "$(cat "/proc/sys/$key")"
  done > "$SYSCTL_SNAPSHOT.tmp"
  mv "$SYSCTL_SNAPSHOT.tmp" "$SYSCTL_SNAPSHOT"
}

sysctl_restore() {
  [ -s "$SYSCTL_SNAPSHOT" ] || return 0
  local key value
  while read -r key value; do
    if [ "$(cat "/proc/sys/$key" 2>/dev/null)" != "$value" ]; then
      log "restoring host sysctl $key=$value"
      echo "$value" > "/proc/sys/$key" || log "could not restore $key"
    fi
  done < "$SYSCTL_SNAPSHOT"
  rm -f "$SYSCTL_SNAPSHOT"
}

# name ip profile, one line per lab host, read from the lab inventory (the one source).
lab_hosts() {
  "$PY" - "$ROOT/inventories/lab/hosts.yml" <<'PYEOF'
import sys, yaml
inv = yaml.safe_load(open(sys.argv[1]))
hosts = {}
def walk(group):
    for name, hv in ((group or {}).get("hosts") or {}).items():
        hosts.setdefault(name, {}).update(hv or {})
    for child in ((group or {}).get("children") or {}).values():
        walk(child)
for top in inv.values():
    walk(top)
for name, hv in sorted(hosts.items()):
    print(hv.get("ansible_host", name), hv["lab_ip"], hv.get("lab_profile", "base"))
PYEOF
}

ensure_network() {
  local net=$1 subnet=${2:-}
  docker network inspect "$net" >/dev/null 2>&1 && return
  log "creating network $net ${subnet:+($subnet)}"
  docker network create ${subnet:+--subnet "$subnet"} --label kubebin.lab=net "$net" >/dev/null
}

# run_host NAME IP|- PROFILE NETWORK ROLE
run_host() {
  local name=$1 ip=$2 profile=$3 net=${4:-$NET} role=${5:-host}
  if docker container inspect "$name" >/dev/null 2>&1; then
    if [ "$(docker container inspect -f '{{.State.Running}}' "$name")" != true ]; then
      log "starting stopped host $name"; docker start "$name" >/dev/null
    fi
    return
  fi
  local extra=()
  case $profile in
    base) ;;
    # Kubernetes nodes run docker, kubelet and kube-proxy inside: a volume for the inner
    # docker's overlay data and a writable /proc/sys. Lab settings only.
    # The runc wrapper and a cgroup root of its own for the kubelet: see tools/lab/README.md.
    node) extra+=(--volume /var/lib/docker --security-opt systempaths=unconfined
                  --volume "$ROOT/tools/lab/runc-wrapper:$RUNC_WRAPPER:ro")
          cgroup_root_create "$name" ;;
    *) log "unknown lab_profile '$profile' for $name (base|node)"; exit 1 ;;
  esac
  [ "$ip" = - ] || extra+=(--ip "$ip")
  log "creating host $name (${ip/#-/dynamic address}, $profile, network $net)"
  docker run --detach --name "$name" --hostname "$name" --network "$net" \
    --cgroupns host --volume /sys/fs/cgroup:/sys/fs/cgroup:rw \
    --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
    --security-opt seccomp=unconfined \
    --cap-add SYS_ADMIN --cap-add NET_ADMIN \
    --stop-signal SIGRTMIN+3 \
    --label "kubebin.lab=$role" "${extra[@]}" "$IMAGE" >/dev/null
}

# Each node's kubelet gets its own --cgroup-root (/kubebin-lab-NAME): with the host's cgroup
# namespace, two kubelets would otherwise share /kubepods. The kubelet wants it to exist.
RUNC_WRAPPER=/usr/local/libexec/kubebin-lab/runc
cgroup_root_create() {
  local d
  for d in /sys/fs/cgroup/*/; do
    [ -L "${d%/}" ] && continue
    mkdir -p "$d/kubebin-lab-$1" 2>/dev/null || continue
    if [ -f "$d/cpuset.cpus" ]; then
      cat "$d/cpuset.cpus" > "$d/kubebin-lab-$1/cpuset.cpus"
      cat "$d/cpuset.mems" > "$d/kubebin-lab-$1/cpuset.mems"
    fi
  done
}
# Once the host is gone: remove its cgroup tree, deepest first (empty by then).
cgroup_root_remove() {
  local d
  for d in /sys/fs/cgroup/*/kubebin-lab-"$1"; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

wait_systemd() {
  local name=$1 state
  for _ in $(seq 1 60); do
    state=$(docker exec "$name" systemctl is-system-running 2>/dev/null || true)
    case $state in running|degraded) return 0 ;; esac
    sleep 1
  done
  log "systemd in $name did not finish booting (state: ${state:-unknown})"; return 1
}

cmd=${1:-}
case $cmd in
  docker-env) echo "export DOCKER_HOST=$(docker_up)" ;;
  docker-up) docker_up ;;
  docker-down) docker_down ;;
  image)
    DOCKER_HOST=$(docker_up); export DOCKER_HOST
    "$ROOT/tools/lab/image.sh" "$IMAGE" "$STATE" ;;
  up)
    sysctl_save
    DOCKER_HOST=$(docker_up); export DOCKER_HOST
    "$ROOT/tools/lab/image.sh" "$IMAGE" "$STATE"
    ensure_network "$NET" "$SUBNET"
    hosts=$(lab_hosts)
    while read -r name ip profile; do run_host "$name" "$ip" "$profile"; done <<<"$hosts"
    while read -r name _ _; do wait_systemd "$name"; done <<<"$hosts"
    log "lab hosts up: $(awk '{printf "%s ", $1}' <<<"$hosts")" ;;
  destroy)
    if DOCKER_HOST=$(docker_find); then
      export DOCKER_HOST
      ids=$(docker ps -aq --filter label=kubebin.lab=host)
      names=$(docker ps -a --filter label=kubebin.lab=host --format '{{.Names}}')
      [ -z "$ids" ] || { log "removing lab hosts"; docker rm -f -v $ids >/dev/null; }
      for name in $names; do cgroup_root_remove "$name"; done
      docker network inspect "$NET" >/dev/null 2>&1 && docker network rm "$NET" >/dev/null
    fi
    docker_down
    sysctl_restore ;;
  host-create)
    # host-create NAME PROFILE NETWORK [IP [SUBNET]]: one host, for molecule's create step.
    [ $# -ge 4 ] || { log "usage: lab.sh host-create NAME PROFILE NETWORK [IP [SUBNET]]"; exit 2; }
    DOCKER_HOST=$(docker_up); export DOCKER_HOST
    "$ROOT/tools/lab/image.sh" "$IMAGE" "$STATE" >&2
    ensure_network "$4" "${6:-}"
    run_host "$2" "${5:--}" "$3" "$4" molecule
    wait_systemd "$2" ;;
  host-remove)
    # host-remove NETWORK NAME...: remove hosts, then the network once it is empty.
    [ $# -ge 2 ] || { log "usage: lab.sh host-remove NETWORK NAME..."; exit 2; }
    DOCKER_HOST=$(docker_find) || exit 0
    export DOCKER_HOST
    net=$2; shift 2
    for name in "$@"; do docker rm -f -v "$name" >/dev/null 2>&1 || true; cgroup_root_remove "$name"; done
    if docker network inspect "$net" >/dev/null 2>&1 && \
       [ "$(docker network inspect -f '{{len .Containers}}' "$net")" = 0 ]; then
      docker network rm "$net" >/dev/null
    fi ;;
  net-connect)
    # net-connect NAME NETWORK [IP [SUBNET]]: a second (third...) network for a host.
    [ $# -ge 3 ] || { log "usage: lab.sh net-connect NAME NETWORK [IP [SUBNET]]"; exit 2; }
    DOCKER_HOST=$(docker_up); export DOCKER_HOST
    ensure_network "$3" "${5:-}"
    if [ "$(docker container inspect -f "{{with index .NetworkSettings.Networks \"$3\"}}yes{{end}}" "$2")" != yes ]; then
      ip=${4:--} extra=()
      [ "$ip" = - ] || extra+=(--ip "$ip")
      log "connecting $2 to $3 (${ip/#-/dynamic address})"
      docker network connect "${extra[@]}" "$3" "$2"
    fi ;;
  net-remove)
    # net-remove NETWORK...: remove each network once no container uses it.
    DOCKER_HOST=$(docker_find) || exit 0
    export DOCKER_HOST
    shift
    for net in "$@"; do
      if docker network inspect "$net" >/dev/null 2>&1 && \
         [ "$(docker network inspect -f '{{len .Containers}}' "$net")" = 0 ]; then
        docker network rm "$net" >/dev/null
      fi
    done ;;
  exec)
    # exec CMD...: run CMD with DOCKER_HOST pointing at a running daemon.
    shift
    DOCKER_HOST=$(docker_up); export DOCKER_HOST
    exec "$@" ;;
  sysctl-save) sysctl_save ;;
  sysctl-restore) sysctl_restore ;;
  status)
    DOCKER_HOST=$(docker_up); export DOCKER_HOST
    echo "DOCKER_HOST=$DOCKER_HOST"
    docker ps --filter label=kubebin.lab=host --format 'table {{.Names}}\t{{.Status}}' ;;
  *) sed -n '2,18p' "$0"; exit 2 ;;
esac
