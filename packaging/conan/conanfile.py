# Conan 2 recipe for ladle, a header-only C++17 library.
#
#   conan create packaging/conan        (from the root of a ladle checkout)
#
# The recipe packages the checkout it sits in: export_sources() copies include/ and LICENSE from
# two levels up, and the version is read from include/ladle/version.hpp, the single source of
# truth. Consumers get the same names as with a CMake install: find_package(ladle) and the target
# ladle::ladle (CMakeDeps generates them; ladle's own ladleConfig.cmake is not shipped).
import os
import re

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy, load
from conan.tools.layout import basic_layout

required_conan_version = ">=2.0"


def read_ladle_version(version_header):
    """Returns "MAJOR.MINOR.PATCH" from the text of include/ladle/version.hpp."""
    parts = []
    for part in ("MAJOR", "MINOR", "PATCH"):
        match = re.search(r"^#define LADLE_VERSION_%s (\d+)$" % part, version_header, re.MULTILINE)
        if match is None:
            raise ValueError("version.hpp does not define LADLE_VERSION_%s" % part)
        parts.append(match.group(1))
    return ".".join(parts)


class LadleConan(ConanFile):
    name = "ladle"
    description = ("Header-only C++17 algorithms around model training: sample weighting, "
                   "subset selection, SMOTE-family resampling, quantile aggregation, quantizers "
                   "and weight averaging.")
    license = "MIT"
    topics = ("machine-learning", "header-only", "simd", "quantization", "smote")
    package_type = "header-library"
    # Settings only serve validate()'s C++17 check; package_id() drops them.
    settings = "os", "arch", "compiler", "build_type"
    no_copy_source = True

    @property
    def _checkout(self):
        return os.path.normpath(os.path.join(self.recipe_folder, "..", ".."))

    def set_version(self):
        header = load(self, os.path.join(self._checkout, "include", "ladle", "version.hpp"))
        self.version = read_ladle_version(header)

    def export_sources(self):
        for pattern in ("*.hpp", "*.h", "*.cuh"):
            copy(self, pattern, src=os.path.join(self._checkout, "include"),
                 dst=os.path.join(self.export_sources_folder, "include"))
        copy(self, "LICENSE", src=self._checkout, dst=self.export_sources_folder)

    def layout(self):
        basic_layout(self)

    def requirements(self):
        # Both appear in ladle's public headers, so header-library makes them transitive.
        # ladle supports xsimd 8.1 to 14.x and Eigen 3.4 to 5.x; Conan Center has xsimd >= 13.
        self.requires("xsimd/[>=13 <15]")
        self.requires("eigen/[>=3.4 <6]")

    def package_id(self):
        self.info.clear()

    def validate(self):
        if self.settings.get_safe("compiler.cppstd"):
            check_min_cppstd(self, 17)

    def build(self):
        pass

    def package(self):
        copy(self, "LICENSE", src=self.source_folder,
             dst=os.path.join(self.package_folder, "licenses"))
        for pattern in ("*.hpp", "*.h", "*.cuh"):
            copy(self, pattern, src=os.path.join(self.source_folder, "include"),
                 dst=os.path.join(self.package_folder, "include"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "ladle")
        self.cpp_info.set_property("cmake_target_name", "ladle::ladle")
        self.cpp_info.set_property("pkg_config_name", "ladle")
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        # The par policy starts std::threads.
        if self.settings.os in ("Linux", "FreeBSD"):
            self.cpp_info.system_libs = ["pthread"]
