#!/usr/bin/env bash
# Starts the system with sensible local defaults. Until the cluster exists this runs a demo backtest
# on the bundled real data (SPY daily, moving-average cross) and prints its summary.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/lib.sh

require_dotnet
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

config="${1:-examples/spy-sma-cross.json}"
output=".state/demo"
log "building the worker"
dotnet build Worker -c Release -nologo -v quiet | tail -n 2
log "running $config"
mkdir -p "$output"
# stdout is the machine protocol (JSON lines): keep it in a file; stderr carries the summary for people.
dotnet Worker/bin/Release/net10.0/Backtesting.Worker.dll --config "$config" --output "$output" --data data/lean \
  > "$output/events.jsonl"
log "protocol lines: $output/events.jsonl ($(grep -c backtest_progress "$output/events.jsonl") progress, $(grep -c backtest_trade "$output/events.jsonl") trades)"
log "full results:   $output/results.json"
