#!/usr/bin/env bash
# Train the recognizer (ml/weights/crnn.pt) from scratch on one GPU within one command (< 10 min).
# The data mix of recognizer v2: a synthetic curriculum (single words, then up to 3, then lines),
# then half real lines (French, and the English 1905 letters x4) and half rendered ones, of which
# a quarter are typed in print and typewriter fonts and 30% of the handwritten ones are form
# fields (names, addresses, dates, codes, mostly in capitals, often boxed, with printed labels).
# The learning rate follows the steps (cosine, by step). STEPS is what an H100 did in MINUTES
# (~13 steps/s of 64 lines with 14 rendering workers); on a slower box --fit-to-budget shortens
# the schedule to the steps the measured step time allows, so the decay still ends in time.
#
# Make the bundle on the CPU machine (~40 MiB; carry .gpu/bundle and .gpu/whl):
#   python -m ml.bundle --out .gpu/bundle --max-per-folder 3500 \
#       train=.cache/data/fr-train.tsv stanford-train=.cache/data/stanford-train.tsv \
#       fr-val=.cache/data/fr-val.tsv stanford-val=.cache/data/stanford-val.tsv
#   pip download --dest .gpu/whl --only-binary=:all: --python-version 3.12 \
#       --platform manylinux2014_x86_64 rapidfuzz faker tqdm
# Run: OUT=$OUT bash ml/recipes/gpu_recognizer.sh       (checkpoint, model and log under OUT)
# Then, here: python -m ml.checkpoint OUT/crnn.pt ml/weights/crnn.pt (float16 export), refit the
# LM weights and the calibration (ml/weights/README.md), and keep it only if bench/htr_lines.py
# says it is better. Tested on the CPU with DEVICE=cpu MINUTES=1 STEPS=6 (tests/ml/test_recipes.py).
set -euo pipefail
OUT=${OUT:?set OUT}
MINUTES=${MINUTES:-9}
STEPS=${STEPS:-7000}
DEVICE=${DEVICE:-cuda}
B=${BUNDLE:-.gpu/bundle}
WHEELS=${WHEELS:-.gpu/whl}
export PYTHONUNBUFFERED=1
mkdir -p "$OUT"
if ! python3 -c "import rapidfuzz, faker, tqdm" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site "$WHEELS"/*.whl
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
# Curriculum stages scale with the run: words until 4% of the steps, short lines until 10%.
python3 -m ml.train --device "$DEVICE" --steps "$STEPS" --minutes "$MINUTES" \
  --train "$B/train.tsv" "$B/stanford-train.tsv:4" --real-fraction 0.5 \
  --print-fraction 0.25 --field-fraction 0.3 \
  --curriculum "1:$((STEPS * 4 / 100))" "3:$((STEPS * 10 / 100))" \
  --val "$B/stanford-val.tsv" "$B/fr-val.tsv" --fonts "$B/fonts" --vocabulary "$B/vocab.tsv" \
  --batch-size "${BATCH:-64}" --lr "${LR:-2e-3}" --warmup-steps "${WARMUP:-300}" \
  --val-every "${VAL_EVERY:-1000}" --workers "${WORKERS:-14}" --threads 2 --no-progress \
  --fit-to-budget \
  --out "$OUT/crnn.pt" --checkpoint "$OUT/crnn.pt.ckpt" ${EXTRA:-} 2> "$OUT/train.log"
tail -n 3 "$OUT/train.log"
