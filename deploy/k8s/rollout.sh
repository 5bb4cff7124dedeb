#!/usr/bin/env bash
# One rollout of an overlay, in order: the migration Job first, then the API pods.
#
#   deploy/k8s/rollout.sh production        # or staging
#
# A Job's pod template is immutable, so the previous (finished) migration Job is deleted before
# the apply creates this rollout's. A Job still running is never deleted: the script stops.
# Plain `kubectl apply -k` is safe as well (the new pods refuse to start until the Job has
# migrated), but leaves a finished Job in the way of the next image. docs/kubernetes.md.
set -euo pipefail

overlay="${1:?usage: $0 <overlay: staging|production>}"
dir="$(cd "$(dirname "$0")" && pwd)/overlays/$overlay"
namespace="$(sed -n 's/^namespace: *//p' "$dir/kustomization.yaml")"
[ -f "$dir/secrets.env" ] || { echo "$dir/secrets.env is missing: copy secrets.env.example and fill it in" >&2; exit 1; }

if [ -n "$(kubectl -n "$namespace" get job concert-migrate -o jsonpath='{.status.active}' --ignore-not-found)" ]; then
  echo "the migration Job in $namespace is still running: wait for it (kubectl -n $namespace logs -f job/concert-migrate)" >&2
  exit 1
fi
kubectl -n "$namespace" delete job concert-migrate --ignore-not-found --wait=true

kubectl apply -k "$dir"

echo "waiting for the migrations (job/concert-migrate in $namespace)"
for ((waited = 0; ; waited += 5)); do
  conditions="$(kubectl -n "$namespace" get job concert-migrate \
    -o jsonpath='{range .status.conditions[*]}{.type}={.status} {end}')"
  case "$conditions" in
    *Complete=True*) break ;;
    *Failed=True*) failed=1 ;;
  esac
  if [ -n "${failed:-}" ] || [ "$waited" -ge 1800 ]; then
    kubectl -n "$namespace" logs job/concert-migrate --tail=50 >&2 || true
    echo "the migration Job did not complete: the old pods keep serving, the new ones wait" >&2
    exit 1
  fi
  sleep 5
done
kubectl -n "$namespace" rollout status deployment/concert-api --timeout=15m
