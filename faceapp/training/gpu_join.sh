#!/usr/bin/env bash
# Put a GPU call's returned files back together (see gpu_job.sh): FILES_AT DEST
# Joins <name>.safetensors.part-NN pieces, copies whole files, unpacks logs.tar, and checks every
# network's sha256 (each run's weights and any snapshot) against the one job.log recorded on the
# device. Exits 1 on any mismatch.
set -eu -o pipefail
FROM=${1:?folder the files of the call came back in}
DEST=${2:?folder to put them together in}
mkdir -p "$DEST"
cp "$FROM/job.log" "$DEST/"
[ -f "$FROM/logs.tar" ] && tar -xf "$FROM/logs.tar" -C "$DEST"
for name in prior restorer prior-snapshot restorer-snapshot; do
  if ls "$FROM/$name.safetensors.part-"* > /dev/null 2>&1; then
    cat "$FROM/$name.safetensors.part-"* > "$DEST/$name.safetensors"
  elif [ -f "$FROM/$name.safetensors" ]; then
    cp "$FROM/$name.safetensors" "$DEST/"
  fi
done
grep -E '^[0-9a-f]{64}  (prior|restorer)(-snapshot)?\.safetensors$' "$DEST/job.log" > "$DEST/weights.sha256"
(cd "$DEST" && sha256sum -c weights.sha256)
