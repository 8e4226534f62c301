#!/usr/bin/env bash
# Reproduces the shipped baseline models/logolab-tiny-clip exactly (see its MODEL_CARD.md):
#   synth brand set A (seed 1) → prepare → full training from random init (seed 1234) → float16 export.
# Usage: scripts/train-baseline.sh [work dir (default runs/baseline)] [model out (default models/logolab-tiny-clip)]
set -euo pipefail
cd "$(dirname "$0")/.."
W="${1:-runs/baseline}"
OUT="${2:-models/logolab-tiny-clip}"
L="node bin/logolab.mjs"
mkdir -p "$W"
$L synth --out "$W/synthA" --brands 256 --images-per-brand 12 --min-side 128 --max-side 192 --seed 1 --brand-set A
$L prepare --dataset "$W/synthA" --out "$W/dataA"
$L train --config configs/baseline_tiny.yaml \
  --dataset-dir "$W/synthA" --reference-dir "$W/dataA/reference_logos" --db-path "$W/dataA" \
  --checkpoint-dir "$W/checkpoints" --output-dir "$W/model_fp32"
$L convert "$W/model_fp32" --out "$W/model_fp16" --dtype float16
mkdir -p "$OUT" && cp "$W"/model_fp16/* "$OUT"/   # keeps MODEL_CARD.md and first_losses.json
