#!/usr/bin/env bash
# Smoke test of a deployed kfci (infra/terraform/README.md, "Verify"), for operators with a real project; not run in CI.
#   scripts/smoke.sh PROJECT
# After `terraform apply` of both root modules: publishes a trigger for a tiny periodic job, waits for its
# finished.json in the results bucket, runs a dry-run janitor sweep, and prints what it saw. Needs gcloud
# logged in as someone who may publish to prow-events and read the results bucket.
set -euo pipefail

project="${1:?usage: scripts/smoke.sh PROJECT}"
root="$(cd "$(dirname "$0")/.." && pwd)"
tf="$root/infra/terraform"
bucket="$(terraform -chdir="$tf" output -raw results_bucket)"
job="kfci-smoke"
timeout_seconds="${KFCI_SMOKE_TIMEOUT:-1800}"

newest() { gcloud storage cat "gs://$bucket/logs/${KFCI_SMOKE_JOB:-$job}/latest-build.txt" 2>/dev/null || true; }
before="$(newest)"

echo "== publishing a trigger for periodic $job to prow-events in $project"
# Prow's periodic event, as docs/prow.md starts one by hand; KFCI_SMOKE_JOB names a periodic whose prow_config
# entry is tiny (default kfci-smoke). The Trigger assigns the build id; the newest build under the job is read below.
job="${KFCI_SMOKE_JOB:-$job}"
gcloud pubsub topics publish prow-events --project="$project" \
  --attribute=prow.k8s.io/pubsub.EventType=prow.k8s.io/pubsub.PeriodicProwJobEvent \
  --message="{\"name\":\"$job\"}"

echo "== waiting up to ${timeout_seconds}s for a new build's finished.json under gs://$bucket/logs/$job/ (last was '${before}')"
deadline=$((SECONDS + timeout_seconds))
latest=""
until latest="$(newest)" && [[ -n "$latest" && "$latest" != "$before" ]] \
  && gcloud storage cat "gs://$bucket/logs/$job/$latest/finished.json" >/tmp/kfci-smoke-finished.json 2>/dev/null; do
  if (( SECONDS > deadline )); then
    echo "no finished.json after ${timeout_seconds}s; recent function logs:" >&2
    gcloud logging read 'resource.type="cloud_run_revision" AND resource.labels.service_name=~"^kfci-"' \
      --project="$project" --limit=30 --freshness=1h --format='value(timestamp,resource.labels.service_name,jsonPayload.message)' >&2
    exit 1
  fi
  sleep 20
done
echo "== finished.json"
cat /tmp/kfci-smoke-finished.json
echo
echo "== files of the build"
gcloud storage ls -r "gs://$bucket/logs/$job/$latest/" | head -50

echo "== dry-run janitor sweep"
gcloud pubsub topics publish janitor-ticks --project="$project" --message='{"dryRun":true}'
sleep 60
gcloud logging read 'resource.type="cloud_run_revision" AND resource.labels.service_name="kfci-janitor" AND jsonPayload.fields.event="sweep.finished"' \
  --project="$project" --limit=1 --freshness=10m --format=json

echo "== dead letters (should be none)"
gcloud pubsub subscriptions pull kfci-dead-letter --project="$project" --limit=5 --format='value(message.messageId,message.attributes)' || true
