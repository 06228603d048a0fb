# A project-local PostgreSQL cluster for tests and local runs. Source this file, then:
#   start_postgres   installs PostgreSQL if needed, starts (or reuses) the cluster, creates the
#                    `backtesting` database and exports BACKTESTING_DB (an Npgsql connection string)
#   stop_postgres    stops the cluster
# Settings: BACKTESTING_PG_PORT (default: the first free port from 55432). Listens on 127.0.0.1 only, trust authentication:
# a development database, never a production one.

_pg_repo_root() { (cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P); }

# log: the one helper of every script (scripts/lib.sh).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Newest installed server binaries, or nothing.
_pg_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1) || true
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

# An existing cluster runs on the major version that created it, when that one is still installed.
_pg_bindir_for() {
  local data="$1" fallback="$2" version
  version=$(cat "$data/PG_VERSION" 2>/dev/null) || true
  if [ -n "$version" ] && [ -x "/usr/lib/postgresql/$version/bin/pg_ctl" ]; then
    echo "/usr/lib/postgresql/$version/bin"
  else
    echo "$fallback"
  fi
}

_pg_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb); install the 'postgresql' package as root." >&2
    return 1
  fi
  log "installing PostgreSQL (apt-get)"
  # Debian's package would create and start a 'main' cluster on port 5432; this project runs its own.
  if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
  fi
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Options::=--force-confold postgresql >&2
}

# Runs a command as the cluster's owner: `postgres` when we are root (initdb refuses root), else ourselves.
_pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Where the cluster lives. Normally <repo>/.state/postgres; the server runs as `postgres` and must be able
# to reach it. When root runs from a repo that `postgres` cannot traverse (e.g. under /root, mode 700), the
# cluster goes to /tmp/backtesting-pg-<hash of the repo path> instead, one per checkout.
_pg_cluster_dir() {
  local root="$1" dir="$1/.state/postgres"
  mkdir -p "$root/.state"
  if [ ! -d "$dir" ]; then
    mkdir -m 0755 "$dir"
  fi
  chmod 0755 "$root/.state" "$dir" 2>/dev/null || true
  if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$dir"; then
    rmdir "$dir" 2>/dev/null || true
    dir="/tmp/backtesting-pg-$(printf '%s' "$root" | sha256sum | cut -c1-16)"
    mkdir -p -m 0755 "$dir"
  fi
  echo "$dir"
}

_pg_port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_postgres() {
  local root bindir dir sockdir
  root=$(_pg_repo_root)
  bindir=$(_pg_bindir) || true
  if [ -z "$bindir" ]; then
    _pg_install || return 1
    bindir=$(_pg_bindir) || { echo "PostgreSQL installed but initdb not found" >&2; return 1; }
  fi

  dir=$(_pg_cluster_dir "$root")
  sockdir="$dir/socket"
  # Unix socket paths are limited to ~107 bytes; without room, TCP on 127.0.0.1 is all we use anyway.
  [ ${#sockdir} -gt 90 ] && sockdir=""
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$dir"
  fi

  # One starter at a time (two test runs may call this together).
  exec {_pg_lock_fd}>"$dir/.lock"
  flock "$_pg_lock_fd"
  local status=0
  _pg_start_locked "$bindir" "$dir" "$sockdir" || status=$?
  exec {_pg_lock_fd}>&-
  return $status
}

_pg_start_locked() {
  local bindir="$1" dir="$2" sockdir="$3" data="$2/data" port
  bindir=$(_pg_bindir_for "$data" "$bindir")

  if [ ! -s "$data/PG_VERSION" ]; then
    log "creating PostgreSQL cluster in $data"
    _pg_as_owner mkdir -p -m 0700 "$data"
    _pg_as_owner "$bindir/initdb" -D "$data" -A trust -U postgres -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; return 1; }
  fi
  [ -n "$sockdir" ] && _pg_as_owner mkdir -p -m 0700 "$sockdir"

  if _pg_as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    # Already running: use the port it listens on (line 4 of postmaster.pid).
    port=$(sed -n 4p "$data/postmaster.pid")
  else
    if [ -n "${BACKTESTING_PG_PORT:-}" ]; then
      port="$BACKTESTING_PG_PORT"
      if _pg_port_busy "$port"; then
        echo "Port $port on 127.0.0.1 (BACKTESTING_PG_PORT) is taken by another program; choose a free one." >&2
        return 1
      fi
    else
      # The first free port from 55432 on: another checkout's cluster may hold the default.
      port=55432
      while _pg_port_busy "$port"; do
        port=$((port + 1))
        [ "$port" -gt 55531 ] && { echo "no free port in 55432-55531 for PostgreSQL; set BACKTESTING_PG_PORT" >&2; return 1; }
      done
    fi
    log "starting PostgreSQL on 127.0.0.1:$port"
    # The lock's descriptor is closed for pg_ctl: the server would inherit it and hold the lock for good.
    _pg_as_owner "$bindir/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 60 \
      -o "-p $port -k '$sockdir' -c listen_addresses=127.0.0.1 -c max_connections=1000" start >/dev/null {_pg_lock_fd}>&- ||
      { tail -n 20 "$dir/postgres.log" >&2; return 1; }
  fi

  local psql=("$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1)
  if [ "$("${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = 'backtesting'")" != "1" ]; then
    "${psql[@]}" -c "CREATE DATABASE backtesting" || return 1
  fi

  export BACKTESTING_PG_DIR="$dir"
  export BACKTESTING_DB="Host=127.0.0.1;Port=$port;Username=postgres;Database=backtesting"
}

stop_postgres() {
  local root bindir dir
  root=$(_pg_repo_root)
  bindir=$(_pg_bindir) || return 0
  dir=$(_pg_cluster_dir "$root")
  bindir=$(_pg_bindir_for "$dir/data" "$bindir")
  if [ -s "$dir/data/PG_VERSION" ] && _pg_as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    log "stopping PostgreSQL ($dir/data)"
    _pg_as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  fi
}
