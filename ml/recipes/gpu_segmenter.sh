#!/usr/bin/env bash
# Train the line segmenter (ml/weights/linenet.pt) on one GPU within one command.
# The bundle (under 64 MiB) holds the real annotated pages at 1,280 px plus the fonts and word
# list; the synthetic pages are rendered here on the machine's CPU cores first (~1 min).
# Make the bundle on the CPU machine:
#   python -m ml.train_segmenter prepare
#   python -m ml.train_segmenter bundle --out .gpu/segbundle --fonts .cache/fonts
# Run (carry .gpu/segbundle): OUT=$OUT MINUTES=7 bash ml/recipes/gpu_segmenter.sh
# Output: OUT/linenet.pt (best by validation F1), OUT/linenet.pt.ckpt, OUT/train.log.
# Then, here: python -m ml.page.segmenter export OUT/linenet.pt ml/weights/linenet.pt, and keep
# it only if bench/page_pipeline.py says it is better.
set -euo pipefail
OUT=${OUT:?set OUT}
MINUTES=${MINUTES:-7}
DEVICE=${DEVICE:-cuda}
STEPS=${STEPS:-20000}
PAGES=${PAGES:-1500}
B=${BUNDLE:-.gpu/segbundle}
SEG=${SEG:-/tmp/seg}
export PYTHONUNBUFFERED=1
mkdir -p "$OUT" "$SEG"
for set in fr-train stanford-train fr-val stanford-val; do ln -sfn "$(realpath "$B/$set")" "$SEG/$set"; done
python3 -m ml.train_segmenter prepare-synthetic --out "$SEG" --count "$PAGES" --val-count 40 \
  --fonts "$B/fonts" --vocabulary "$B/vocab.tsv" --workers "${RENDER_WORKERS:-14}" \
  2> "$OUT/synth.log"
python3 -m ml.train_segmenter train --seg "$SEG" --device "$DEVICE" --steps "$STEPS" \
  --minutes "$MINUTES" --batch-size "${BATCH:-32}" --crop 512 --lr "${LR:-3e-3}" \
  --val-every "${VAL_EVERY:-1000}" --workers "${WORKERS:-12}" --threads 2 \
  --net-widths 16 32 64 96 128 --out "$OUT/linenet.pt" 2> "$OUT/train.log"
tail -n 5 "$OUT/train.log"
