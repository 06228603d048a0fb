#!/usr/bin/env bash
# Starts the system with sensible local defaults: a project-local PostgreSQL, the schema, and a silo of the
# backtest cluster. It first runs a backtest straight through the worker (no database needed), then runs one
# through the cluster, and leaves the silo running until Ctrl+C.
#   ./run.sh [config.json]      the worker demo config (default: examples/spy-sma-cross.json)
# Settings: ConnectionStrings__Backtesting (an existing database; otherwise a local one is started),
# Silo__SiloPort / Silo__GatewayPort, Backtesting__Runner (process | inProcess).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/lib.sh
source scripts/postgres.sh

require_dotnet
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

config="${1:-examples/spy-sma-cross.json}"
output=".state/demo"
log "building"
dotnet build Backtesting.sln -c Release -nologo -v quiet | tail -n 2
# The dashboard, which the API serves at / (npm ci on first use, then a production build into Web/dist).
scripts/web.sh build

log "1/2 a backtest through the worker: $config"
mkdir -p "$output"
# stdout is the machine protocol (JSON lines): keep it in a file; stderr carries the summary for people.
dotnet Worker/bin/Release/net10.0/Backtesting.Worker.dll --config "$config" --output "$output" --data data/lean \
  > "$output/events.jsonl"
log "protocol lines: $output/events.jsonl ($(grep -c backtest_progress "$output/events.jsonl") progress, $(grep -c backtest_trade "$output/events.jsonl") trades); results: $output/results.json"

if [ -z "${ConnectionStrings__Backtesting:-}" ]; then
  start_postgres
  export ConnectionStrings__Backtesting="$BACKTESTING_DB"
fi
log "2/2 the cluster: a silo on PostgreSQL, and a backtest through it (Ctrl+C stops the silo)"
export Backtesting__DataDirectory="${Backtesting__DataDirectory:-$PWD/data/lean}"
export Silo__Demo="${Silo__Demo:-$PWD/examples/spy-sma-cross-5y.json}"
cd Silo/bin/Release/net10.0
exec dotnet Backtesting.Silo.dll
