#!/usr/bin/env bash
# The GPU run that produced ml/weights/crnn.pt, with its two ablations trained side by side on
# the same machine for the same wall-clock time:
#   mix   : synthetic curriculum, then 50% real lines (French, and the English 1905 letters x4)
#   synth : synthetic lines only
#   real  : real lines only (no synthetic data, no curriculum)
# Input: the bundle made by `python -m ml.bundle` (see ml/weights/README.md) in .gpu/bundle and
# the rapidfuzz wheel for the GPU machine's Python in .whl. Output: OUT/<name>/crnn.pt + log.
# Usage: OUT=runs/gpu MINUTES=7 bash ml/recipes/gpu_ablation.sh
set -euo pipefail
OUT=${OUT:?set OUT}
MINUTES=${MINUTES:-7}
B=.gpu/bundle
if ! python3 -c "import rapidfuzz" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site
fi
export PYTHONUNBUFFERED=1
common=(--val "$B/stanford-val.tsv" "$B/fr-val.tsv" --fonts "$B/fonts" --vocabulary "$B/vocab.tsv"
        --minutes "$MINUTES" --batch-size 64 --val-every 1000 --no-progress --threads 1)
mkdir -p "$OUT/mix" "$OUT/synth" "$OUT/real"
python3 -m ml.train "${common[@]}" --workers "${MIX_WORKERS:-8}" \
  --train "$B/train.tsv" "$B/stanford-train.tsv:4" --real-fraction 0.5 \
  --out "$OUT/mix/crnn.pt" --checkpoint /tmp/mix.ckpt 2> /tmp/mix.err &
python3 -m ml.train "${common[@]}" --workers "${SYNTH_WORKERS:-3}" \
  --out "$OUT/synth/crnn.pt" --checkpoint /tmp/synth.ckpt 2> /tmp/synth.err &
python3 -m ml.train "${common[@]}" --workers "${REAL_WORKERS:-2}" --no-synthetic \
  --train "$B/train.tsv" "$B/stanford-train.tsv:4" \
  --out "$OUT/real/crnn.pt" --checkpoint /tmp/real.ckpt 2> /tmp/real.err &
wait
tail -n 12 /tmp/mix.err /tmp/synth.err /tmp/real.err
