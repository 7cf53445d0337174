#!/usr/bin/env bash
# One GPU call of the compact-model training (see gpu_recipe.md). Usage, from the repo root:
#   bash faceapp/training/gpu_job.sh DATA_PART MINUTES
# Trains the restorer and the prior side by side for MINUTES on DATA_PART (a folder made by
# `python -m faceapp.training pack`), warm-starting each from .gpu/carry/<kind>.safetensors when
# present, and copies the EMA weights, loss logs and latest preview grids to $OUT.
# Env: PYTHON (default python3), RESTORER_CONFIG / PRIOR_CONFIG (default *_compact), OUT.
set -u -o pipefail
PART=${1:?data part folder}
MINUTES=${2:?minutes of training}
PY=${PYTHON:-python3}
OUT=${OUT:?set OUT to the folder that comes back}
export PYTHONUNBUFFERED=1
declare -A CONFIG=([restorer]=${RESTORER_CONFIG:-restorer_compact} [prior]=${PRIOR_CONFIG:-prior_compact})
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" | tee "$OUT/job.log"
pids=()
for kind in restorer prior; do
  warm=()
  [ -f ".gpu/carry/$kind.safetensors" ] && warm=(--warm-start ".gpu/carry/$kind.safetensors")
  rm -rf "runs/gpu/$kind"
  "$PY" -m faceapp.training train "${CONFIG[$kind]}" --run-dir "runs/gpu/$kind" --data "$PART" \
    --minutes "$MINUTES" "${warm[@]}" > "runs/gpu-$kind.log" 2>&1 &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
for kind in restorer prior; do
  tail -n 5 "runs/gpu-$kind.log" | tee -a "$OUT/job.log"
  cp "runs/gpu/$kind/ema.safetensors" "$OUT/$kind.safetensors" 2>/dev/null || status=1
  cp "runs/gpu/$kind/losses.csv" "$OUT/${kind}_losses.csv" 2>/dev/null
  grid=$(ls runs/gpu/$kind/samples/*.png 2>/dev/null | tail -n 1)
  [ -n "$grid" ] && cp "$grid" "$OUT/${kind}_samples.png"
done
ls -l "$OUT" | tee -a "$OUT/job.log"
exit $status
