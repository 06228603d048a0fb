# Shared helpers for run.sh and test.sh.

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# The .NET SDK comes with the machine; say clearly when it does not.
require_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "The .NET 10 SDK is required (dotnet on PATH): https://dotnet.microsoft.com/download" >&2
    exit 1
  fi
}

# Builds the solution in Release (extra arguments go to dotnet build). On success prints the build's closing
# lines; on failure prints every distinct error in full, then the end of the log, and returns non-zero: a
# summary cut to its last lines could hide the compiler's errors. The whole log is kept in .state/build.log.
build_solution() {
  local build_log status=0
  mkdir -p .state
  build_log=".state/build.log"
  dotnet build Backtesting.sln -c Release -nologo -v quiet "$@" >"$build_log" 2>&1 || status=$?
  if [ "$status" -eq 0 ]; then
    tail -n 3 "$build_log" >&2
    return 0
  fi
  echo "The build failed (exit $status). Its errors:" >&2
  grep -E ': (error|fatal error) ' "$build_log" | sort -u >&2 || true
  echo "The end of the build's output ($build_log):" >&2
  tail -n 30 "$build_log" >&2
  return "$status"
}

# Publishes the worker into DIR for this machine's architecture (linux-x64 or linux-arm64, or RID when given),
# self-contained and compiled ahead of time (ReadyToRun, set in Worker/Worker.csproj whenever a runtime is named):
# the one way the worker is published, for the Docker image (scripts/docker.sh) and for run.sh's process runner
# (Backtesting__WorkerPath=DIR/Backtesting.Worker). Extra arguments go to dotnet publish.
#   publish_worker DIR [RID] [dotnet publish arguments...]
publish_worker() {
  local dir="$1" rid="${2:-}" root
  shift; [ "$#" -gt 0 ] && shift
  if [ -z "$rid" ]; then
    case "$(uname -m)" in
      aarch64 | arm64) rid=linux-arm64 ;;
      *) rid=linux-x64 ;;
    esac
  fi
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
  mkdir -p "$dir"
  log "publishing the worker ($rid, self-contained, ReadyToRun) to $dir"
  dotnet publish "$root/Worker/Worker.csproj" -c Release -r "$rid" --self-contained true -nologo -v quiet \
    -p:PublishDir="$(cd "$dir" && pwd -P)/" -p:DebugType=none -p:GenerateDocumentationFile=false "$@" >&2
}

# Waits until URL answers 2xx, at most TIMEOUT seconds, while every process in PIDS (space-separated) lives.
# Returns non-zero with the reason, the URL's last answer and the end of each LOG when a process exits first or
# time runs out: never a "running" message for a system that is not.
#   wait_until_ready URL TIMEOUT "PIDS" LOG...
wait_until_ready() {
  local url="$1" timeout="$2" pids="$3" pid
  shift 3
  for _ in $(seq 1 "$timeout"); do
    if curl -fsS -o /dev/null --max-time 5 "$url" 2>/dev/null; then return 0; fi
    for pid in $pids; do
      if ! kill -0 "$pid" 2>/dev/null; then
        echo "A process (pid $pid) exited before $url was ready. The end of its logs:" >&2
        tail -n 30 "$@" >&2
        return 1
      fi
    done
    sleep 1
  done
  echo "Not ready within $timeout s: $url answered:" >&2
  curl -sS --max-time 5 "$url" >&2 2>&1 || echo "(no answer)" >&2
  echo >&2
  echo "The end of the logs:" >&2
  tail -n 30 "$@" >&2
  return 1
}

# Totals over the TRX files that `dotnet test --logger trx` wrote into a folder; prints "passed failed skipped".
# Errors, timeouts and aborted tests count as failed. A suite can never read as green by not reporting: each
# expected file that is missing counts one failure, and so does a file whose run did not complete (a test host
# that crashed leaves a summary outcome other than Completed with no failed test counted).
trx_totals() {
  local dir=$1 expected=${2:-0} file counters outcome passed=0 failed=0 skipped=0 files=0 broken
  for file in "$dir"/*.trx; do
    [ -e "$file" ] || continue
    files=$((files + 1))
    counters=$(grep -o '<Counters [^>]*>' "$file" | head -n 1)
    outcome=$(grep -o '<ResultSummary outcome="[A-Za-z]*"' "$file" | head -n 1 | sed 's/.*outcome="\([A-Za-z]*\)"/\1/')
    broken=$(( $(_trx_count "$counters" failed) + $(_trx_count "$counters" error) + $(_trx_count "$counters" timeout) + $(_trx_count "$counters" aborted) ))
    if [ "$outcome" != "Completed" ] && [ "$broken" -eq 0 ]; then broken=1; fi
    passed=$((passed + $(_trx_count "$counters" passed)))
    # A skipped test is listed (total) but not executed; the notExecuted counter stays 0 for it.
    skipped=$((skipped + $(_trx_count "$counters" total) - $(_trx_count "$counters" executed)))
    failed=$((failed + broken))
  done
  if [ "$files" -lt "$expected" ]; then failed=$((failed + expected - files)); fi
  echo "$passed $failed $skipped"
}

# Lists every failed test of the TRX files in a folder, one line each with the first lines of its message, so the
# end of a run's output (often all a CI log keeps) names what failed.
trx_failures() {
  local file
  for file in "$1"/*.trx; do
    [ -e "$file" ] || continue
    awk '
      function unescape(t) {
        gsub(/&lt;/, "<", t); gsub(/&gt;/, ">", t); gsub(/&quot;/, "\"", t); gsub(/&apos;/, "\047", t); gsub(/&amp;/, "\\&", t)
        return t
      }
      /<UnitTestResult / {
        failed = ($0 ~ /outcome="(Failed|Error|Timeout|Aborted)"/)
        if (failed) { name = $0; sub(/.*testName="/, "", name); sub(/".*/, "", name); print "  FAILED " unescape(name); lines = 0 }
      }
      failed && /<Message>/ { inmsg = 1; sub(/.*<Message>/, "") }
      failed && inmsg {
        text = $0; end = sub(/<\/Message>.*/, "", text); text = unescape(text)
        if (lines < 4 && text != "") { print "    " substr(text, 1, 240); lines++ }
        if (end) { inmsg = 0; failed = 0 }
      }
    ' "$file"
  done
}

# One attribute of a TRX <Counters> element, 0 when absent.
_trx_count() {
  local value
  value=$(printf '%s' "$1" | grep -o " $2=\"[0-9]*\"" | grep -o '[0-9][0-9]*' | head -n 1) || true
  echo "${value:-0}"
}
