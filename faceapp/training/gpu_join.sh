#!/usr/bin/env bash
# Put a GPU call's returned files back together (see gpu_job.sh): FILES_AT DEST
# Joins <kind>.safetensors.part-NN pieces, copies whole files, unpacks logs.tar, and checks every
# network's sha256 against the one job.log recorded on the device. Exits 1 on any mismatch.
set -eu -o pipefail
FROM=${1:?folder the files of the call came back in}
DEST=${2:?folder to put them together in}
mkdir -p "$DEST"
cp "$FROM/job.log" "$DEST/"
[ -f "$FROM/logs.tar" ] && tar -xf "$FROM/logs.tar" -C "$DEST"
for kind in prior restorer; do
  if ls "$FROM/$kind.safetensors.part-"* > /dev/null 2>&1; then
    cat "$FROM/$kind.safetensors.part-"* > "$DEST/$kind.safetensors"
  elif [ -f "$FROM/$kind.safetensors" ]; then
    cp "$FROM/$kind.safetensors" "$DEST/"
  fi
done
grep -E '^[0-9a-f]{64}  (prior|restorer)\.safetensors$' "$DEST/job.log" > "$DEST/weights.sha256"
(cd "$DEST" && sha256sum -c weights.sha256)
