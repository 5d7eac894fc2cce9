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
rm -f balanced.csv digits_mlp.safetensors digits_int4.safetensors digits_back.safetensors \
  digits_soup.safetensors digits_merged.safetensors

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
run "$mlp" digits_mlp.safetensors
run "$ladle" quantize digits_mlp.safetensors -o digits_int4.safetensors --format int4 --granularity group:32
first "$ladle" inspect digits_int4.safetensors
run "$ladle" dequantize digits_int4.safetensors -o digits_back.safetensors
run "$mlp" --evaluate digits_back.safetensors
run "$ladle" soup digits_mlp.safetensors digits_back.safetensors -o digits_soup.safetensors
run "$ladle" merge --base digits_back.safetensors digits_mlp.safetensors -o digits_merged.safetensors --method ties --density 0.5
run "$mlp" --evaluate digits_merged.safetensors
printf '\nfiles in %s\n' "$work"
