#!/bin/sh
# Shards, then the merge once every index has succeeded.
set -eu
cd "$(dirname "$0")"
kubectl apply -f embed-indexed-job.yaml
kubectl wait --for=condition=complete --timeout=48h job/logolab-embed
kubectl apply -f merge-job.yaml
kubectl wait --for=condition=complete --timeout=2h job/logolab-merge
kubectl logs job/logolab-merge
