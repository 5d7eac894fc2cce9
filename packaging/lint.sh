#!/usr/bin/env bash
# Lints the package-manager files, which CI cannot run (no vcpkg or Conan registry access):
#   * vcpkg.json is valid JSON, names the port "ladle", and its version equals version.hpp's;
#   * every Python file under packaging/conan compiles;
#   * the Conan recipe, loaded against a stand-in `conan` module, reads the same version from
#     version.hpp, declares the header-library essentials and exports ladle::ladle.
# Exits non-zero on the first failure. Usage: packaging/lint.sh (from anywhere).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/.." && pwd)"
python="${PYTHON:-python3}"
export PYTHONDONTWRITEBYTECODE=1  # leave no __pycache__ in the source tree
scratch="$(mktemp -d)"
trap 'rm -rf "${scratch}"' EXIT

fail() { echo "packaging/lint.sh: $*" >&2; exit 1; }

version_hpp="${root}/include/ladle/version.hpp"
header_version="$(sed -n 's/^#define LADLE_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]\+\)$/\2/p' \
                  "${version_hpp}" | paste -sd.)"
[[ "${header_version}" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
  fail "cannot read the version from ${version_hpp} (got '${header_version}')"

# vcpkg
port="${here}/vcpkg/ports/ladle"
for f in vcpkg.json portfile.cmake usage; do
  [[ -f "${port}/${f}" ]] || fail "missing ${port}/${f}"
done
"${python}" -m json.tool "${port}/vcpkg.json" > /dev/null || fail "vcpkg.json is not valid JSON"
"${python}" - "${port}/vcpkg.json" "${header_version}" <<'PY' || fail "vcpkg.json check failed"
import json, sys
manifest = json.load(open(sys.argv[1]))
want = sys.argv[2]
problems = []
if manifest.get("name") != "ladle":
    problems.append("name is %r, want 'ladle'" % manifest.get("name"))
if manifest.get("version") != want:
    problems.append("version is %r, version.hpp says %s" % (manifest.get("version"), want))
deps = {d if isinstance(d, str) else d["name"] for d in manifest.get("dependencies", [])}
for dep in ("xsimd", "eigen3", "vcpkg-cmake", "vcpkg-cmake-config"):
    if dep not in deps:
        problems.append("dependency %s missing" % dep)
for p in problems:
    print("vcpkg.json: " + p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
grep -q 'vcpkg_cmake_config_fixup(CONFIG_PATH share/cmake/ladle)' "${port}/portfile.cmake" ||
  fail "portfile.cmake does not fix up share/cmake/ladle"

# Conan
conan_dir="${here}/conan"
for f in conanfile.py test_package/conanfile.py test_package/CMakeLists.txt \
         test_package/test_package.cpp; do
  [[ -f "${conan_dir}/${f}" ]] || fail "missing ${conan_dir}/${f}"
done
while IFS= read -r -d '' py; do
  "${python}" -c 'import py_compile, sys
py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)' "${py}" "${scratch}/compiled.pyc" ||
    fail "${py} does not compile"
done < <(find "${conan_dir}" -name '*.py' -print0)
[[ -f "${root}/LICENSE" ]] || fail "LICENSE (packaged by both recipes) is missing"

recipe="${conan_dir}/conanfile.py"
"${python}" - "${recipe}" "${header_version}" <<'PY' || fail "Conan recipe check failed"
# Load the recipe with a minimal stand-in for the `conan` package (not installed in CI) and
# call the methods whose results must agree with the CMake package.
import importlib.util, os, sys, types

recipe_path, want = sys.argv[1], sys.argv[2]

class ConanFile:
    pass

def load(conanfile, path):
    with open(path) as f:
        return f.read()

stubs = {
    "conan": {"ConanFile": ConanFile},
    "conan.tools": {},
    "conan.tools.build": {"check_min_cppstd": lambda *a, **k: None, "can_run": lambda *a: True},
    "conan.tools.files": {"copy": lambda *a, **k: None, "load": load, "get": lambda *a, **k: None},
    "conan.tools.layout": {"basic_layout": lambda *a, **k: None},
    "conan.tools.cmake": {"CMake": object, "cmake_layout": lambda *a, **k: None},
}
for name, attrs in stubs.items():
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module

spec = importlib.util.spec_from_file_location("ladle_recipe", recipe_path)
recipe = importlib.util.module_from_spec(spec)
spec.loader.exec_module(recipe)
classes = [c for c in vars(recipe).values()
           if isinstance(c, type) and issubclass(c, ConanFile) and c is not ConanFile]
if len(classes) != 1:
    sys.exit("expected one ConanFile class, found %d" % len(classes))
cls = classes[0]
problems = []

conanfile = cls()
conanfile.recipe_folder = os.path.dirname(os.path.abspath(recipe_path))
if getattr(cls, "version", None) is not None:
    problems.append("version is hard-coded (%r); it must come from set_version()" % cls.version)
conanfile.set_version()
if conanfile.version != want:
    problems.append("set_version() gives %r, version.hpp says %s" % (conanfile.version, want))

expected = {"name": "ladle", "package_type": "header-library", "no_copy_source": True,
            "license": "MIT"}
for attr, value in expected.items():
    if getattr(cls, attr, None) != value:
        problems.append("%s is %r, want %r" % (attr, getattr(cls, attr, None), value))

class Info:
    cleared = False
    def clear(self):
        self.cleared = True
conanfile.info = Info()
conanfile.package_id()
if not conanfile.info.cleared:
    problems.append("package_id() does not clear the package id")

requires = []
conanfile.requires = requires.append
conanfile.requirements()
names = sorted(r.split("/")[0] for r in requires)
if names != ["eigen", "xsimd"]:
    problems.append("requirements are %r, want eigen and xsimd" % requires)

class CppInfo:
    def __init__(self):
        self.properties = {}
    def set_property(self, key, value):
        self.properties[key] = value
class Settings:
    os = "Linux"
conanfile.cpp_info = CppInfo()
conanfile.settings = Settings()
conanfile.package_info()
props = conanfile.cpp_info.properties
if props.get("cmake_file_name") != "ladle" or props.get("cmake_target_name") != "ladle::ladle":
    problems.append("package_info() names %r / %r, want ladle / ladle::ladle"
                    % (props.get("cmake_file_name"), props.get("cmake_target_name")))
if conanfile.cpp_info.libdirs != [] or conanfile.cpp_info.bindirs != []:
    problems.append("a header-only package must set libdirs and bindirs to []")

for p in problems:
    print("conanfile.py: " + p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY

echo "packaging/lint.sh: ok (version ${header_version}; vcpkg port and Conan recipe consistent)"
