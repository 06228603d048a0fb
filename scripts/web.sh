#!/usr/bin/env bash
# The web dashboard (Web/): install its locked dependencies, build it (the bundle-size budget is part of the
# build), run its component tests (Vitest), and run its browser tests in Chromium against the real system: a
# fresh PostgreSQL database, a silo and the API started here from their Release builds.
#   scripts/web.sh build      npm ci when needed, then the production build into Web/dist
#   scripts/web.sh unit       the Vitest component tests
#   scripts/web.sh e2e        the browser tests (builds the .NET solution first unless WEB_E2E_NO_DOTNET_BUILD=1)
#   scripts/web.sh test       build, unit and e2e; writes the totals to .state/test-results/web-totals
# Installs what it needs (Node.js packages through npm, Debian's chromium through apt-get) as on a fresh machine.
# Screenshots, the downloaded export and logs of a browser run go to .state/web-e2e/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
source scripts/postgres.sh

root="$PWD"
state="$root/.state"
results_dir="$state/test-results"
mkdir -p "$results_dir"

require_node() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then
      log "installing Node.js and npm (apt-get)"
      apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >&2
    else
      echo "Node.js 20+ and npm are required for the dashboard" >&2
      exit 1
    fi
  fi
}

# The browser tests drive Debian's Chromium; it is never downloaded by Playwright.
require_chromium() {
  if [ -x /usr/bin/chromium ]; then return 0; fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "the browser tests need Debian's chromium (/usr/bin/chromium): apt-get install chromium" >&2
    return 1
  fi
  log "installing chromium (apt-get)"
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
}

web_deps() {
  require_node
  # Install when node_modules is missing or older than the lock file. `npm install` installs the lock's pinned
  # versions, and the lock must come out unchanged. The lock lists every platform's optional packages (rollup's
  # native builds): npm skips the other platforms' without fetching them, so the lock is the same on any machine.
  # A lock that lacked them was filled in by npm whenever the registry answered for them, and failed this check.
  if [ ! -d Web/node_modules ] || [ Web/package-lock.json -nt Web/node_modules/.package-lock.json ]; then
    log "installing the dashboard's packages (npm install, pinned by Web/package-lock.json)"
    local pinned
    pinned=$(sha256sum Web/package-lock.json)
    (cd Web && npm install --no-audit --no-fund --loglevel=error >&2)
    if [ "$(sha256sum Web/package-lock.json)" != "$pinned" ]; then
      echo "Web/package-lock.json changed during install: package.json and the lock file disagree" >&2
      return 1
    fi
  fi
}

web_build() {
  web_deps
  log "building the dashboard (Web/dist)"
  (cd Web && npm run --silent build)
}

# Vitest with its JSON report; prints "passed failed skipped".
web_unit() {
  web_deps
  log "dashboard component tests (Vitest)"
  local report="$results_dir/vitest.json" status=0
  (cd Web && npx vitest run --reporter=default --reporter=json --outputFile="$report") >&2 || status=$?
  if [ ! -s "$report" ]; then
    echo "0 1 0"
    return 0
  fi
  node -e '
    const r = require(process.argv[1]);
    const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
    const failed = r.numFailedTests + (r.numFailedTestSuites > 0 && r.numFailedTests === 0 ? 1 : 0);
    console.log(`${r.numPassedTests} ${failed} ${skipped}`);' "$report"
}

free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

e2e_pids=()
e2e_db=""
e2e_cleanup() {
  local pid
  [ -n "${e2e_out:-}" ] && touch "$e2e_out/api.stop" && kill "$(cat "$e2e_out/api.pid" 2>/dev/null)" 2>/dev/null || true
  for pid in "${e2e_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${e2e_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$e2e_db" ] && [ -n "${e2e_psql:-}" ]; then
    $e2e_psql -c "DROP DATABASE IF EXISTS \"$e2e_db\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
}

# Starts PostgreSQL (a fresh database), a silo and the API; runs the browser tests; prints "passed failed skipped".
web_e2e() {
  web_build >&2
  require_chromium >&2 || { echo "0 1 0"; return 0; }
  require_dotnet
  if [ "${WEB_E2E_NO_DOTNET_BUILD:-0}" != 1 ]; then
    log "building the .NET solution (Release) for the browser tests"
    dotnet build Backtesting.sln -c Release -nologo -v quiet >&2
  fi
  start_postgres >&2
  local out="$state/web-e2e"
  rm -rf "$out" && mkdir -p "$out"
  e2e_out="$out"

  local pg_port
  pg_port=$(sed -E 's/.*Port=([0-9]+).*/\1/' <<<"$BACKTESTING_DB")
  e2e_psql="psql -X -q -h 127.0.0.1 -p $pg_port -U postgres -d postgres -v ON_ERROR_STOP=1"
  e2e_db="backtesting_web_e2e_$$"
  $e2e_psql -c "CREATE DATABASE \"$e2e_db\"" >&2
  trap e2e_cleanup EXIT

  local db="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=$e2e_db"
  local api_port silo_port gateway_port dashboard_port
  api_port=$(free_port); silo_port=$(free_port); gateway_port=$(free_port); dashboard_port=$(free_port)
  local key="bt_web_e2e_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  local base="http://127.0.0.1:$api_port"

  log "starting a silo and the API on a fresh database ($e2e_db), API at $base"
  (
    export ConnectionStrings__Backtesting="$db" Backtesting__DataDirectory="$root/data/lean"
    export Silo__ClusterId="web-e2e-$$" Silo__SiloPort="$silo_port" Silo__GatewayPort="$gateway_port" Silo__DashboardPort="$dashboard_port"
    # The custom strategy test uploads one and optimizes it: this silo's process runner (no Docker here) may run it.
    export Backtesting__AllowCustomStrategiesInProcessRunner=true
    cd Silo/bin/Release/net10.0 && exec dotnet Backtesting.Silo.dll
  ) >"$out/silo.log" 2>&1 &
  e2e_pids+=($!)
  # The API restarts whenever it exits until the run is over: the reconnection test stops it (by the pid in
  # api.pid) and watches the page heal when it comes back.
  (
    export ConnectionStrings__Backtesting="$db" Backtesting__DataDirectory="$root/data/lean"
    export Silo__ClusterId="web-e2e-$$" Api__Urls="$base" Api__BootstrapAdminKey="$key" Api__DashboardPath="$root/Web/dist"
    export Api__CorsOrigins__0="$base"
    # The browser tests start more runs than a trader's rate limit (10 per 5 minutes) allows.
    export Api__StartsPerWindow=200
    cd Api/bin/Release/net10.0
    trap 'kill "$(cat "$out/api.pid")" 2>/dev/null; exit 0' TERM
    while [ ! -e "$out/api.stop" ]; do
      dotnet Backtesting.Api.dll &
      echo $! > "$out/api.pid"
      wait $! || true
    done
  ) >"$out/api.log" 2>&1 &
  e2e_pids+=($!)

  local ready=0 pid
  for _ in $(seq 1 240); do
    if curl -fsS -o /dev/null "$base/health/ready" 2>/dev/null; then ready=1; break; fi
    for pid in "${e2e_pids[@]}"; do
      kill -0 "$pid" 2>/dev/null || { tail -n 30 "$out/api.log" "$out/silo.log" >&2; echo "0 1 0"; return 0; }
    done
    sleep 0.5
  done
  if [ "$ready" != 1 ]; then
    echo "the API did not become ready at $base/health/ready" >&2
    tail -n 30 "$out/api.log" "$out/silo.log" >&2
    echo "0 1 0"
    return 0
  fi

  log "browser tests (Chromium, headless) against $base"
  local status=0
  (cd Web && WEB_BASE_URL="$base" WEB_API_KEY="$key" WEB_ARTIFACTS="$out" WEB_API_PID_FILE="$out/api.pid" node e2e/run.mjs) >&2 || status=$?
  if [ -s "$out/totals" ]; then
    cat "$out/totals"
  else
    echo "0 1 0"
  fi
  e2e_cleanup
  trap - EXIT
  return 0
}

case "${1:-test}" in
  build) web_build ;;
  unit) read -r p f s < <(web_unit); echo "web component tests: $p passed, $f failed, $s skipped"; [ "$f" -eq 0 ] ;;
  e2e) read -r p f s < <(web_e2e); echo "web browser tests: $p passed, $f failed, $s skipped"; [ "$f" -eq 0 ] ;;
  test)
    web_build >&2 || { echo "0 1 0" > "$results_dir/web-totals"; exit 1; }
    read -r up uf us < <(web_unit)
    read -r ep ef es < <(web_e2e)
    echo "web component tests: $up passed, $uf failed, $us skipped" >&2
    echo "web browser tests: $ep passed, $ef failed, $es skipped" >&2
    echo "$((up + ep)) $((uf + ef)) $((us + es))" > "$results_dir/web-totals"
    [ $((uf + ef)) -eq 0 ]
    ;;
  *) echo "usage: scripts/web.sh build|unit|e2e|test" >&2; exit 2 ;;
esac
