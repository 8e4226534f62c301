#!/usr/bin/env bash
# Reproduces the shipped baseline models/logolab-tiny-clip exactly (see its MODEL_CARD.md), in four
# stages of full training (every weight trained), each starting from the weights the previous one exported:
#   1. synth brand set A, shape labels, one colour style per shape (seed 1) → prepare → training from
#      random init (configs/baseline_tiny.yaml, seed 1234): scene invariance
#   2. the same data, a fresh lower schedule (configs/baseline_tiny_stage2.yaml)
#   3. synth brand set A, brand labels (seed 1) → prepare → MIL-NCE on brands (configs/baseline_tiny_stage3.yaml)
#   4. synth brand set A, shape labels in all colour styles (seed 1) → prepare → MIL-NCE on drawings across
#      colour styles, recolouring augmentation (configs/baseline_tiny_stage4.yaml)
#   → the mean pooler_output of stage 4's crops subtracted in post_layernorm's bias (training/center.ts)
#   → float16 export.
# Usage: scripts/train-baseline.sh [work dir (default runs/baseline)] [model out (default models/logolab-tiny-clip)]
# Each train line starts over (--overwrite: a re-run replaces the work dir's earlier checkpoints).
# Stage 1's synth line is also in scripts/baseline-first-losses.ts (BASELINE_SYNTH; a test checks they agree).
set -euo pipefail
cd "$(dirname "$0")/.."
W="${1:-runs/baseline}"
OUT="${2:-models/logolab-tiny-clip}"
L="node bin/logolab.mjs"
mkdir -p "$W"
$L synth --out "$W/synthA" --brand-set A --brands 2245 --label-by shape --renditions-per-shape 1 --images-per-brand 1 --targets-per-scene 4 --min-side 128 --max-side 160 --negatives 0 --seed 1
$L prepare --dataset "$W/synthA" --out "$W/dataA"
$L train --overwrite --config configs/baseline_tiny.yaml \
  --dataset-dir "$W/synthA" --reference-dir "$W/dataA/reference_logos" --db-path "$W/dataA" \
  --checkpoint-dir "$W/checkpoints" --output-dir "$W/stage1/model_fp32"
$L train --overwrite --config configs/baseline_tiny_stage2.yaml --base-model "$W/stage1/model_fp32" \
  --dataset-dir "$W/synthA" --reference-dir "$W/dataA/reference_logos" --db-path "$W/dataA" \
  --checkpoint-dir "$W/checkpoints_stage2" --output-dir "$W/stage2/model_fp32"
$L synth --out "$W/synthA_brand" --brand-set A --brands 2245 --images-per-brand 3 --min-side 128 --max-side 160 --negatives 0 --seed 1
$L prepare --dataset "$W/synthA_brand" --out "$W/dataA_brand"
$L train --overwrite --config configs/baseline_tiny_stage3.yaml --base-model "$W/stage2/model_fp32" \
  --dataset-dir "$W/synthA_brand" --reference-dir "$W/dataA_brand/reference_logos" --db-path "$W/dataA_brand" \
  --checkpoint-dir "$W/checkpoints_stage3" --output-dir "$W/model_stage3"
$L synth --out "$W/synthA_shapes" --brand-set A --brands 2245 --label-by shape --images-per-brand 4 --targets-per-scene 4 --min-side 128 --max-side 160 --negatives 0 --seed 1
$L prepare --dataset "$W/synthA_shapes" --out "$W/dataA_shapes"
$L train --overwrite --config configs/baseline_tiny_stage4.yaml --base-model "$W/model_stage3" \
  --dataset-dir "$W/synthA_shapes" --reference-dir "$W/dataA_shapes/reference_logos" --db-path "$W/dataA_shapes" \
  --checkpoint-dir "$W/checkpoints_stage4" --output-dir "$W/model_stage4"
npx tsx scripts/center-baseline.ts "$W/model_stage4" "$W/dataA_shapes" "$W/model_fp32"
$L convert "$W/model_fp32" --out "$W/model_fp16" --dtype float16
mkdir -p "$OUT" && cp "$W"/model_fp16/* "$OUT"/   # keeps MODEL_CARD.md, first_losses.json, training_curve.svg
