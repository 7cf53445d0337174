#!/usr/bin/env bash
# One GPU call of faceapp's model training (see gpu_recipe.md). Usage, from the repo root:
#   bash faceapp/training/gpu_job.sh DATA_PART MINUTES
# Trains the networks named in KINDS side by side for MINUTES on DATA_PART (a folder made by
# `python -m faceapp.training pack`), each warm-started from .gpu/carry/<kind>.safetensors when
# present, else from the shipped model's file models/faceapp-compact-<kind>.safetensors. Installs
# the wheels in .whl/ first when that folder is there (the device's Python lacks pydantic).
# Returns in $OUT at most 8 files of at most 15 MiB: job.log, logs.tar (losses, validation,
# preview grids, training logs) and each network's EMA weights, split into <kind>.safetensors.part-NN
# pieces when larger; job.log ends with their sha256. Join them with gpu_join.sh.
# Env: PYTHON (default python3), WHEELS (default .whl; a missing folder installs nothing),
# KINDS (default "prior restorer"), RESTORER_CONFIG / PRIOR_CONFIG (default restorer_cpu_deep /
# prior_cpu: the shipped model's networks), PIECE_MIB (default 15), OUT, SNAPSHOT_MINUTES (default none: after that many
# minutes each run's latest EMA file is kept aside too and returned as <kind>-snapshot.safetensors,
# so a run that overfits late still brings back its earlier weights).
set -u -o pipefail
PART=${1:?data part folder}
MINUTES=${2:?minutes of training}
PY=${PYTHON:-python3}
OUT=${OUT:?set OUT to the folder that comes back}
KINDS=${KINDS:-prior restorer}
PIECE_MIB=${PIECE_MIB:-15}
WHEELS=${WHEELS:-.whl}
export PYTHONUNBUFFERED=1
declare -A CONFIG=([restorer]=${RESTORER_CONFIG:-restorer_cpu_deep} [prior]=${PRIOR_CONFIG:-prior_cpu})
if [ -d "$WHEELS" ]; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$WHEELS"/*.whl \
    || { echo "installing $WHEELS/ failed" | tee "$OUT/job.log"; exit 1; }
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
"$PY" -c "import torch, pydantic; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'pydantic', pydantic.VERSION)" \
  | tee "$OUT/job.log"
mkdir -p runs/gpu
pids=()
snapshots=()
for kind in $KINDS; do
  warm=()
  for candidate in ".gpu/carry/$kind.safetensors" "models/faceapp-compact-$kind.safetensors"; do
    if [ -f "$candidate" ]; then warm=(--warm-start "$candidate"); break; fi
  done
  rm -rf "runs/gpu/$kind"
  "$PY" -m faceapp.training train "${CONFIG[$kind]}" --run-dir "runs/gpu/$kind" --data "$PART" \
    --minutes "$MINUTES" "${warm[@]}" > "runs/gpu-$kind.log" 2>&1 &
  pids+=($!)
  if [ -n "${SNAPSHOT_MINUTES:-}" ]; then
    (sleep "$(awk "BEGIN {print $SNAPSHOT_MINUTES * 60}")"
     [ -f "runs/gpu/$kind/ema.safetensors" ] && cp "runs/gpu/$kind/ema.safetensors" "runs/gpu/$kind-snapshot.safetensors") &
    snapshots+=($!)
  fi
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
for pid in "${snapshots[@]}"; do kill "$pid" 2> /dev/null; done  # a run that ended sooner takes none
# ship NAME FILE: FILE into $OUT as NAME.safetensors, in pieces when larger than PIECE_MIB
ship() {
  if [ "$(stat -c %s "$2")" -gt $((PIECE_MIB * 1024 * 1024)) ]; then
    split -b "${PIECE_MIB}M" -d "$2" "$OUT/$1.safetensors.part-"
  else
    cp "$2" "$OUT/$1.safetensors"
  fi
  echo "$(sha256sum < "$2" | cut -d' ' -f1)  $1.safetensors" >> "$OUT/job.log"
}
logs=()
for kind in $KINDS; do
  tail -n 5 "runs/gpu-$kind.log" | tee -a "$OUT/job.log"
  weights="runs/gpu/$kind/ema.safetensors"
  [ -f "runs/gpu/$kind-snapshot.safetensors" ] && ship "$kind-snapshot" "runs/gpu/$kind-snapshot.safetensors"
  if [ -f "$weights" ]; then
    ship "$kind" "$weights"
  else
    echo "$kind: no weights (the run stopped before its first checkpoint)" | tee -a "$OUT/job.log"
    status=1
  fi
  logs+=("runs/gpu-$kind.log")
  for f in losses.csv validation.csv; do [ -f "runs/gpu/$kind/$f" ] && logs+=("runs/gpu/$kind/$f"); done
  grid=$(ls runs/gpu/$kind/samples/*.png 2>/dev/null | tail -n 1)
  [ -n "$grid" ] && logs+=("$grid")
done
tar -cf "$OUT/logs.tar" "${logs[@]}"
ls -l "$OUT" | tee -a "$OUT/job.log"
exit $status
