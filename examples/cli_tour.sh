#!/bin/sh
# A short tour of the `ladle` program on examples/data, one line of output per step.
#   examples/cli_tour.sh LADLE_BINARY DIGITS_MLP_BINARY [WORK_FOLDER]
# (`cmake --build build --target tour` builds both programs and runs this.)
set -eu
abs() { (cd "$(dirname "$1")" && printf '%s/%s' "$(pwd)" "$(basename "$1")"); }
ladle=$(abs "$1")
mlp=$(abs "$2")
data=$(cd "$(dirname "$0")/data" && pwd)
work=${3:-$(mktemp -d)}
mkdir -p "$work"
cd "$work"
rm -f balanced.csv coreset.npy digits_mlp.safetensors digits_int4.safetensors digits_back.safetensors \
  digits_soup.safetensors digits_merged.safetensors preds.npy y.npy aggregate.npy

# Prints the command, runs it, prints its output (the first line only with `first`), with the
# data folder spelled examples/data.
show() { printf '%s\n' "$*" | sed "s|$data|examples/data|g; s|$ladle|ladle|; s|$mlp|example_digits_mlp|"; }
run() {
  show "
\$ $*"
  out=$("$@") || exit 1
  show "$out"
}
first() {
  show "
\$ $*"
  out=$("$@") || exit 1
  show "$out" | head -n 1
}

run "$ladle" --version
first "$ladle" inspect "$data/breast_cancer_imbalanced.csv"
run "$ladle" smote "$data/breast_cancer_imbalanced.csv" -o balanced.csv --method borderline-1 --seed 42
run "$ladle" select "$data/breast_cancer_imbalanced.csv" -o coreset.npy --method k-center --size 20 --seed 1
run "$mlp" digits_mlp.safetensors
run "$ladle" quantize digits_mlp.safetensors -o digits_int4.safetensors --format int4 --granularity group:32
first "$ladle" inspect digits_int4.safetensors
run "$ladle" dequantize digits_int4.safetensors -o digits_back.safetensors
run "$mlp" --evaluate digits_back.safetensors
run "$ladle" soup digits_mlp.safetensors digits_back.safetensors -o digits_soup.safetensors
run "$ladle" merge --base digits_back.safetensors digits_mlp.safetensors -o digits_merged.safetensors --method ties --density 0.5
run "$mlp" --evaluate digits_merged.safetensors
# Class weights as JSON on stdout (the summary line goes to stderr): the classes on one line.
show "
\$ $ladle weights --labels $data/breast_cancer_imbalanced.csv --scheme balanced"
show "$("$ladle" weights --labels "$data/breast_cancer_imbalanced.csv" --scheme balanced -q | tr -d ' \n' | sed 's/.*"classes":\(\[.*\]\).*/\1/')"
# Quantile aggregation over three made-up forecasters (the predictions need numpy to generate;
# the step is skipped, saying so, without it).
py=
for p in /usr/bin/python3 python3; do
  if "$p" -c 'import numpy' 2>/dev/null; then py=$p; break; fi
done
if [ -n "$py" ]; then
  "$py" - <<'PY'
import numpy as np
rng = np.random.default_rng(0)
y = 10 + 3 * rng.standard_normal(400)
z = np.array([-1.645, 0.0, 1.645])
models = [(0.8, 1.0), (-0.5, 2.5), (0.1, 4.0)]  # (bias, spread) of each forecaster
P = np.stack([(y + b + 1.5 * rng.standard_normal(400))[:, None] + s * z for b, s in models])
np.save("preds.npy", P)
np.save("y.npy", y)
PY
  run "$ladle" aggregate --preds preds.npy --y y.npy --levels 0.05,0.5,0.95 --method per-level -o aggregate.npy
else
  show "
(skipping ladle aggregate: python3 with numpy is needed to make its example predictions)"
fi
printf '\nfiles in %s\n' "$work"
