# Shared helpers for run.sh and test.sh.

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# The .NET SDK comes with the machine; say clearly when it does not.
require_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "The .NET 10 SDK is required (dotnet on PATH): https://dotnet.microsoft.com/download" >&2
    exit 1
  fi
}
