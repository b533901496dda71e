#!/usr/bin/env bash
# Installs everything kfci needs on a fresh Debian machine of this kind, idempotently:
# the Pub/Sub and Firestore emulators (Java 17), bubblewrap for the local workflow engine,
# the Node tools the infra checks use, and the NuGet packages. Safe to run any number of times.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
say() { echo "setup: $*" >&2; }

need_apt=()
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jre-headless)
command -v bwrap >/dev/null 2>&1 || need_apt+=(bubblewrap)
# The dashboard's browser tests drive Debian's chromium (no browser download).
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
[ -x /usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator ] || need_apt+=(google-cloud-cli-pubsub-emulator)
[ -x /usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator ] || need_apt+=(google-cloud-cli-firestore-emulator)
command -v gcloud >/dev/null 2>&1 || need_apt+=(google-cloud-cli)

if [ ${#need_apt[@]} -gt 0 ]; then
  say "installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq >/dev/null
  if ! $sudo_cmd apt-get install -y -qq "${need_apt[@]}" >/dev/null; then
    say "could not install ${need_apt[*]}: the emulators come from the Google Cloud CLI's Debian packages"
    exit 1
  fi
fi

command -v dotnet >/dev/null 2>&1 || { say "the .NET 10 SDK is required (dotnet not on PATH)"; exit 1; }

if [ -f "$root/tools/package.json" ]; then
  if [ ! -d "$root/tools/node_modules" ] || [ "$root/tools/package-lock.json" -nt "$root/tools/node_modules" ]; then
    say "installing Node tools"
    (cd "$root/tools" && npm ci --silent --no-audit --no-fund >/dev/null)
    touch "$root/tools/node_modules"
  fi
fi

say "restoring NuGet packages"
dotnet restore "$root/kfci.slnx" --nologo -v q >/dev/null
say "ready"
