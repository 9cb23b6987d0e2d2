"""Builds the Swift library's C ABI (product NWBridge, release) and ships it inside the package.

The Swift package is the directory above this one (or $NW_SWIFT_PACKAGE). Release builds use
NW_TARGET_CPU=native unless the environment sets it (e.g. x86-64-v3 for a wheel that runs on any
AVX2 + FMA machine). Nothing is downloaded but the Swift package's own dependencies.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = Path(__file__).resolve().parent
LIBRARY = "libNWBridge.dylib" if sys.platform == "darwin" else "libNWBridge.so"


def swift_package() -> Path:
    root = Path(os.environ.get("NW_SWIFT_PACKAGE", HERE.parent)).resolve()
    if not (root / "Package.swift").is_file():
        raise RuntimeError(f"no Package.swift in {root}: set NW_SWIFT_PACKAGE to the nw Swift package")
    return root


class BuildSwiftLibrary(build_py):
    def run(self):
        super().run()
        root = swift_package()
        env = dict(os.environ)
        env.setdefault("NW_TARGET_CPU", "native")
        command = ["swift", "build", "-c", "release", "--product", "NWBridge"]
        subprocess.run(command, cwd=root, env=env, check=True)
        bin_path = subprocess.run(command + ["--show-bin-path"], cwd=root, env=env, check=True,
                                  capture_output=True, text=True).stdout.strip().splitlines()[-1]
        target = Path(self.build_lib) / "nw"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(Path(bin_path) / LIBRARY, target / LIBRARY)


class BinaryDistribution(Distribution):
    """A wheel with a native library: tagged for this platform, not pure Python."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildSwiftLibrary}, distclass=BinaryDistribution)
