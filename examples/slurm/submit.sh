#!/bin/bash
# Queues the shard array, then the merge with afterok on the whole array.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p logs
array=$(sbatch --parsable --export=ALL embed-array.sbatch)
sbatch --export=ALL,SHARDS=8 --dependency="afterok:${array}" merge.sbatch
echo "queued shards ${array}_[0-7] and their merge"
