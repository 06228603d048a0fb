#!/usr/bin/env bash
# Starts the system with sensible local defaults: a project-local PostgreSQL, a silo of the backtest cluster and
# the API on http://localhost:8000 (dashboard at /, Swagger at /swagger). It first runs a backtest straight
# through the worker (no database needed), then starts the cluster and stays up until Ctrl+C.
#   ./run.sh [config.json]      the worker demo config (default: examples/spy-sma-cross.json)
# Settings: BACKTESTING_ADMIN_KEY (the local admin API key; otherwise one is generated and kept in .state/admin-key),
# ConnectionStrings__Backtesting (an existing database; otherwise a local one is started), Api__Urls,
# Silo__SiloPort / Silo__GatewayPort, Backtesting__Runner (docker | process | inProcess; default: docker when a
# Docker daemon is reachable or can be started here, else process), Backtesting__WorkerPath (the worker the process
# runner starts; default: the one published to .state/worker), BACKTESTING_READY_TIMEOUT (seconds to wait for
# the API to be ready, default 180; past it run.sh stops with the reason and the end of the logs).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/lib.sh
source scripts/postgres.sh
source scripts/docker.sh

require_dotnet
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

config="${1:-examples/spy-sma-cross.json}"
output=".state/demo"
log "building"
build_solution
# The dashboard, which the API serves at / (npm ci on first use, then a production build into Web/dist).
scripts/web.sh build

# The worker the demo and the process runner start: published ahead of time (ReadyToRun), so a run does not spend
# its first second in the JIT.
publish_worker .state/worker
export Backtesting__WorkerPath="${Backtesting__WorkerPath:-$PWD/.state/worker/Backtesting.Worker}"

log "1/2 a backtest through the worker: $config"
mkdir -p "$output"
# stdout is the machine protocol (JSON lines): keep it in a file; stderr carries the summary for people.
.state/worker/Backtesting.Worker --config "$config" --output "$output" --data data/lean \
  > "$output/events.jsonl"
log "protocol lines: $output/events.jsonl ($(grep -c backtest_progress "$output/events.jsonl") progress, $(grep -c backtest_trade "$output/events.jsonl") trades); results: $output/results.json"

if [ -z "${ConnectionStrings__Backtesting:-}" ]; then
  start_postgres
  export ConnectionStrings__Backtesting="$BACKTESTING_DB"
fi
if [ -z "${Backtesting__Runner:-}" ]; then
  if start_docker && build_worker_image; then
    export Backtesting__Runner=docker
    log "runner: docker (each backtest in its own sandboxed container; daemon $DOCKER_HOST)"
  else
    export Backtesting__Runner=process
    log "runner: process (no Docker here: ${DOCKER_UNAVAILABLE_REASON:-the worker image could not be built})"
  fi
else
  log "runner: $Backtesting__Runner (Backtesting__Runner)"
fi
mkdir -p .state
export Backtesting__DataDirectory="${Backtesting__DataDirectory:-$PWD/data/lean}"

# The local admin key: given, or generated once and kept (only its hash goes to PostgreSQL).
if [ -n "${BACKTESTING_ADMIN_KEY:-}" ]; then
  admin_key="$BACKTESTING_ADMIN_KEY"
else
  if [ ! -s .state/admin-key ]; then
    (umask 077; printf 'bt_%s\n' "$(head -c 32 /dev/urandom | base64 | tr -d '/+=\n')" > .state/admin-key)
  fi
  admin_key="$(cat .state/admin-key)"
fi
export Api__BootstrapAdminKey="$admin_key"
api_url="${Api__Urls:-http://localhost:8000}"

log "2/2 the cluster: a silo and the API on PostgreSQL (logs: .state/silo.log, .state/api.log)"
pids=()
stop_all() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop_all EXIT
trap 'exit 130' INT TERM
(cd Silo/bin/Release/net10.0 && exec dotnet Backtesting.Silo.dll) > .state/silo.log 2>&1 &
pids+=($!)
(cd Api/bin/Release/net10.0 && exec dotnet Backtesting.Api.dll) > .state/api.log 2>&1 &
pids+=($!)

# Ready = PostgreSQL, a silo and the API all answer. Not ready in time, or a process gone: stop with the reason.
wait_until_ready "$api_url/health/ready" "${BACKTESTING_READY_TIMEOUT:-180}" "${pids[*]}" .state/api.log .state/silo.log || exit 1

cat <<MSG

  Backtesting is running.
    dashboard   $api_url/
    Swagger     $api_url/swagger
    admin key   $admin_key
  Try:  curl -H "Authorization: Bearer $admin_key" $api_url/api/v1/strategies
  Ctrl+C stops the API and the silo (PostgreSQL stays up: source scripts/postgres.sh && stop_postgres).

MSG
wait -n "${pids[@]}"
