#!/usr/bin/env bash
# Builds everything and runs every test suite; ends with one line of totals.
# Installs or starts what the tests need by itself, as on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/lib.sh
source scripts/postgres.sh
source scripts/docker.sh

require_dotnet
# The storage tests need PostgreSQL: start the project-local cluster (exports BACKTESTING_DB for them).
start_postgres
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log "building (Release)"
build_solution -warnaserror

# The Docker tests need a daemon and the worker image. Under CI they never skip: no daemon fails the run here,
# with the reason. Elsewhere they skip, and say so loudly.
if start_docker && build_worker_image; then
  export BACKTESTING_WORKER_IMAGE_READY=1
elif [ "${CI:-}" = "true" ]; then
  echo "FAILED: the Docker tests cannot run: ${DOCKER_UNAVAILABLE_REASON:-building the worker image failed}" >&2
  exit 1
else
  export BACKTESTING_DOCKER_UNAVAILABLE="${DOCKER_UNAVAILABLE_REASON:-building the worker image failed}"
  printf '\033[1;31m%s\033[0m\n' "WARNING: DOCKER TESTS WILL BE SKIPPED: $BACKTESTING_DOCKER_UNAVAILABLE" >&2
fi

results_dir=".state/test-results"
rm -rf "$results_dir" && mkdir -p "$results_dir"
log "running the .NET test suites"
set +e
# -m:1: one test assembly at a time; on a 2-core machine, suites running side by side slow each other's cluster tests.
dotnet test Backtesting.sln -c Release --no-build --nologo -m:1 \
  --logger "trx;LogFilePrefix=tests" --results-directory "$results_dir" 2>&1 | tee "$results_dir/dotnet-test.log"
dotnet_status=${PIPESTATUS[0]}
status=$dotnet_status
set -e

# The dashboard: its build (with the bundle budget), component tests (Vitest) and browser tests (Chromium)
# against a silo and the API on a fresh database. Their counts join the totals below.
log "running the dashboard's tests (scripts/web.sh)"
web_status=0
WEB_E2E_NO_DOTNET_BUILD=1 scripts/web.sh test || web_status=$?
read -r web_passed web_failed web_skipped < "$results_dir/web-totals" || { web_passed=0; web_failed=1; web_skipped=0; }
if [ "$web_status" -ne 0 ] && [ "$status" -eq 0 ]; then status=$web_status; fi

# Totals over every suite that ran, read from the TRX files the run wrote (one per test project).
test_projects=$(grep -l 'Microsoft.NET.Test.Sdk' */*.csproj | wc -l)
read -r passed failed skipped < <(trx_totals "$results_dir" "$test_projects")
if [ "$dotnet_status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "dotnet test exited with $dotnet_status without a failed test in its reports: counted as one failure" >&2
  failed=1
fi
passed=$((passed + web_passed)); failed=$((failed + web_failed)); skipped=$((skipped + web_skipped))
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
  echo "no tests ran" >&2
  status=1
fi
if [ "$failed" -gt 0 ]; then
  echo "what failed (.NET suites; the dashboard's failures are marked in its output above):"
  trx_failures "$results_dir"
fi
if [ -n "${BACKTESTING_DOCKER_UNAVAILABLE:-}" ]; then
  printf '\033[1;31m%s\033[0m\n' "WARNING: the Docker tests were skipped: $BACKTESTING_DOCKER_UNAVAILABLE" >&2
fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
