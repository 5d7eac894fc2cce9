// ladle/averaging.hpp: the averaging family (state dicts, weighted / uniform averages).
// The file-to-file form over safetensors checkpoints is ladle/averaging/files.hpp (it needs
// ladle/io and nlohmann_json, so it is not included here).
#pragma once

#include "ladle/averaging/average.hpp"
#include "ladle/averaging/merges.hpp"
#include "ladle/averaging/permutation.hpp"
#include "ladle/averaging/running.hpp"
#include "ladle/averaging/soups.hpp"
#include "ladle/averaging/state_dict.hpp"
