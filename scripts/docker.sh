# A project-local Docker engine and the worker image. Source this file, then:
#   start_docker        installs Debian's docker.io when dockerd is missing (root only), starts a daemon of
#                       this checkout (or reuses it) and exports DOCKER_HOST; returns non-zero with the reason
#                       in DOCKER_UNAVAILABLE_REASON when no daemon can run here
#   build_worker_image  publishes the worker (publish_worker: self-contained linux-x64, ReadyToRun) and builds the image
#                       backtesting-worker:<version> FROM scratch; skipped when nothing changed
#   build_probe_image   (tests only) the worker image plus a static busybox, to run arbitrary commands in the sandbox
#   stop_docker         stops the daemon this checkout started
# An existing DOCKER_HOST that answers is used as it is (nothing is started).
# The daemon runs without iptables, bridge or registry access (containers use --network none) on vfs storage,
# with its data, state, pid file and socket under .state/docker.

_dk_repo_root() { (cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P); }

# log: the one helper of every script (scripts/lib.sh).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

_dk_dir() { echo "$(_dk_repo_root)/.state/docker"; }

# Unix socket paths are limited to about 107 bytes (sun_path); a deep checkout gets a short one in /tmp,
# named by a hash of the repository path so each checkout keeps its own.
_dk_socket_dir() {
  local dir
  dir="$(_dk_dir)"
  if [ $((${#dir} + 40)) -gt 100 ]; then
    dir="/tmp/backtesting-docker-$(printf '%s' "$(_dk_repo_root)" | sha256sum | cut -c1-16)"
  fi
  echo "$dir"
}

_dk_answers() { DOCKER_HOST="$1" timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

_dk_install() {
  if [ "$(id -u)" -ne 0 ]; then
    DOCKER_UNAVAILABLE_REASON="dockerd is not installed and installing docker.io needs root"
    return 1
  fi
  log "installing Docker (apt-get install docker.io)"
  apt-get update -qq >&2 || true
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >&2; then
    DOCKER_UNAVAILABLE_REASON="apt-get install docker.io failed"
    return 1
  fi
}

start_docker() {
  DOCKER_UNAVAILABLE_REASON=""
  export DOCKER_BUILDKIT=0 # the classic builder: no buildx plugin needed, works offline FROM scratch
  if [ -n "${DOCKER_HOST:-}" ] && command -v docker >/dev/null 2>&1 && _dk_answers "$DOCKER_HOST"; then
    log "using the Docker daemon at $DOCKER_HOST"
    return 0
  fi

  if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
    _dk_install || return 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    DOCKER_UNAVAILABLE_REASON="starting a Docker daemon needs root (or set DOCKER_HOST to a running one)"
    return 1
  fi

  local dir sockdir host
  dir="$(_dk_dir)"
  sockdir="$(_dk_socket_dir)"
  mkdir -p "$dir/data" "$sockdir/exec"
  host="unix://$sockdir/docker.sock"

  exec {_dk_lock_fd}>"$dir/.lock"
  flock "$_dk_lock_fd"
  if ! _dk_answers "$host"; then
    if [ -s "$dir/dockerd.pid" ] && kill -0 "$(cat "$dir/dockerd.pid")" 2>/dev/null; then
      log "waiting for the Docker daemon already starting (pid $(cat "$dir/dockerd.pid"))"
    else
      log "starting the Docker daemon ($host)"
      rm -f "$sockdir/docker.sock" "$dir/dockerd.pid"
      # setsid: the daemon outlives this shell and is not hit by its Ctrl+C; the lock's descriptor stays here.
      setsid dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
        --data-root "$dir/data" --exec-root "$sockdir/exec" --pidfile "$dir/dockerd.pid" \
        -H "$host" >"$dir/dockerd.log" 2>&1 {_dk_lock_fd}>&- &
    fi
    local waited=0
    until _dk_answers "$host"; do
      sleep 0.5
      waited=$((waited + 1))
      if [ "$waited" -ge 120 ]; then
        DOCKER_UNAVAILABLE_REASON="dockerd did not answer within 60 s; last lines of $dir/dockerd.log: $(tail -n 5 "$dir/dockerd.log" 2>/dev/null | tr '\n' ' ')"
        exec {_dk_lock_fd}>&-
        return 1
      fi
    done
  fi
  exec {_dk_lock_fd}>&-
  export DOCKER_HOST="$host"
  log "Docker daemon ready at $DOCKER_HOST"
}

stop_docker() {
  local dir pid
  dir="$(_dk_dir)"
  if [ -s "$dir/dockerd.pid" ] && pid=$(cat "$dir/dockerd.pid") && kill -0 "$pid" 2>/dev/null; then
    log "stopping the Docker daemon (pid $pid)"
    kill "$pid"
  fi
}

# The project version (Directory.Build.props) tags the image.
worker_image_tag() {
  local version
  version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$(_dk_repo_root)/Directory.Build.props" | head -n 1)
  echo "backtesting-worker:${version:-0.0.0}"
}

# The worker image's build context in .state/docker/worker-image: a self-contained publish of the worker (app/)
# and, for the default FROM scratch build (WORKER_BASE_IMAGE unset or scratch), the shared libraries ldd lists,
# OpenSSL, the time zone database and a passwd with the non-root user (rootfs/). With another base image
# (e.g. mcr.microsoft.com/dotnet/runtime-deps:10.0), rootfs/ stays empty: the base brings them.
prepare_worker_context() {
  local root context
  root="$(_dk_repo_root)"
  context="$root/.state/docker/worker-image"
  rm -rf "$context" && mkdir -p "$context/app" "$context/rootfs"
  publish_worker "$context/app" linux-x64 || return 1
  cp "$root/docker/worker.Dockerfile" "$context/Dockerfile"
  if [ "${WORKER_BASE_IMAGE:-scratch}" != "scratch" ]; then
    return 0
  fi

  # The shared libraries the runtime loads: what ldd lists for the host and its native parts, plus OpenSSL,
  # which .NET opens by name at run time for hashing (the content hash is SHA-256).
  local libs openssl
  openssl=$(ldconfig -p | awk '/libssl\.so\.3 .*x86-64/ { print $NF; exit }')
  if [ -z "$openssl" ]; then
    echo "OpenSSL 3 (libssl.so.3, Debian package libssl3) is missing" >&2
    return 1
  fi
  libs=$( { for f in "$context/app/Backtesting.Worker" "$context/app/"*.so "$openssl"; do echo "	$f (x)"; ldd "$f" 2>/dev/null; done; } |
    awk '/=>/ { print $3 } /^\t\/lib|^\t\/usr/ { print $1 }' | grep '^/' | grep -v "^$context/" | sort -u)
  for lib in $libs; do
    mkdir -p "$context/rootfs$(dirname "$lib")"
    cp -L "$lib" "$context/rootfs$lib"
  done
  # Exchange hours are in local exchange time: the engine needs the IANA time zone database.
  if [ ! -d /usr/share/zoneinfo/America ]; then
    echo "the time zone database (/usr/share/zoneinfo, Debian package tzdata) is missing" >&2
    return 1
  fi
  mkdir -p "$context/rootfs/usr/share/zoneinfo" "$context/rootfs/etc" "$context/rootfs/tmp"
  (cd /usr/share/zoneinfo && tar --exclude=./right --exclude=./posix -chf - .) | tar -xf - -C "$context/rootfs/usr/share/zoneinfo"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nworker:x:10001:10001:worker:/tmp:/sbin/nologin\n' > "$context/rootfs/etc/passwd"
  printf 'root:x:0:\nworker:x:10001:\n' > "$context/rootfs/etc/group"
}

# Builds backtesting-worker:<version> (FROM scratch unless WORKER_BASE_IMAGE says otherwise). The build
# context's content hash is a label of the image: an unchanged worker is not rebuilt at all.
build_worker_image() {
  local root context tag hash current base
  root="$(_dk_repo_root)"
  context="$root/.state/docker/worker-image"
  tag="$(worker_image_tag)"
  base="${WORKER_BASE_IMAGE:-scratch}"
  export DOCKER_BUILDKIT=0
  prepare_worker_context || return 1

  hash=$( { echo "$base"; cd "$context" && find . -type f -print0 | sort -z | xargs -0 sha256sum; } | sha256sum | cut -c1-32)
  current=$(docker image inspect --format '{{ index .Config.Labels "backtesting.content-hash" }}' "$tag" 2>/dev/null || true)
  if [ "$current" = "$hash" ]; then
    log "worker image $tag is up to date"
    return 0
  fi
  log "building the worker image $tag (FROM $base)"
  docker build -q --build-arg BASE_IMAGE="$base" --label "backtesting.content-hash=$hash" \
    -t "$tag" "$context" >&2 || return 1
  # The image this tag named before is dangling now: remove it (only images this script built carry the label).
  docker image prune -f --filter label=backtesting.content-hash >/dev/null
}

# A test-only image: the worker image plus a static busybox at /busybox, so the Docker tests can run arbitrary
# commands (a shell, a fork bomb, writes everywhere) under exactly the runner's sandbox (Tests/Docker/SandboxProbe*).
# Installs Debian's busybox-static when no static busybox is there (root only). Never used outside the tests.
probe_image_tag() { local tag; tag="$(worker_image_tag)"; echo "backtesting-worker-probe:${tag#*:}"; }

build_probe_image() {
  local root context worker tag hash current busybox=/bin/busybox
  root="$(_dk_repo_root)"
  context="$root/.state/docker/probe-image"
  worker="$(worker_image_tag)"
  tag="$(probe_image_tag)"
  export DOCKER_BUILDKIT=0
  if ! { [ -x "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1; }; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "a static busybox (Debian package busybox-static) is missing and installing it needs root" >&2
      return 1
    fi
    log "installing busybox-static (apt-get) for the sandbox probe"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >&2 ||
      { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >&2; } || return 1
  fi
  rm -rf "$context" && mkdir -p "$context"
  cp "$busybox" "$context/busybox"
  printf 'FROM %s\nCOPY busybox /busybox\n' "$worker" > "$context/Dockerfile"
  hash=$( { docker image inspect --format '{{.Id}}' "$worker" && sha256sum "$context/busybox"; } | sha256sum | cut -c1-32)
  current=$(docker image inspect --format '{{ index .Config.Labels "backtesting.probe-hash" }}' "$tag" 2>/dev/null || true)
  if [ "$current" = "$hash" ]; then
    return 0
  fi
  log "building the sandbox probe image $tag"
  docker build -q --label "backtesting.probe-hash=$hash" -t "$tag" "$context" >&2 || return 1
  docker image prune -f --filter label=backtesting.probe-hash >/dev/null
}
