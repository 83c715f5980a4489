"""The Dockerfiles for Docker users build the same sandbox images as `sandbox-image/build.sh`: the same
runner files at /opt/level5 and the same Debian packages. Nothing here can run Docker, so this keeps the
two recipes from drifting apart."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD_SH = (ROOT / "sandbox-image" / "build.sh").read_text()
IMAGES_SH = (ROOT / "cluster" / "images.sh").read_text()
DOCKERFILES = {
    "python": ROOT / "sandbox-image" / "Dockerfile",
    "javascript": ROOT / "sandbox-image" / "javascript" / "Dockerfile",
}
# The debootstrap call of each language's base image in cluster/images.sh.
BASE_FUNCTIONS = {"python": "build_sandbox_base", "javascript": "build_sandbox_js_base"}


def build_sh_files(language: str) -> set[str]:
    match = re.search(rf"^\s*{language}\).*?files=\(([^)]*)\)", BUILD_SH, re.MULTILINE | re.DOTALL)
    assert match, f"build.sh has no file list for {language}"
    return set(match.group(1).split())


def dockerfile_runner_files(language: str) -> set[str]:
    copies = [
        line.split()[1:-1]
        for line in DOCKERFILES[language].read_text().splitlines()
        if line.startswith("COPY ") and line.rstrip().endswith("/opt/level5/")
    ]
    assert len(copies) == 1, f"{language}: expected one COPY into /opt/level5/"
    return set(copies[0])


def debootstrap_packages(language: str) -> set[str]:
    body = IMAGES_SH.split(f"{BASE_FUNCTIONS[language]}() {{", 1)[1].split("\n}", 1)[0]
    match = re.search(r"sandbox_rootfs \S+ \w+ (\S+) ", body)
    assert match, f"no sandbox_rootfs call in {BASE_FUNCTIONS[language]}"
    return set(match.group(1).split(","))


def dockerfile_packages(language: str) -> set[str]:
    text = DOCKERFILES[language].read_text()
    final_stage = text.rsplit("\nFROM ", 1)[1]
    match = re.search(r"apt-get install -y --no-install-recommends ([^\\&]+)", final_stage)
    assert match, f"{language}: no apt-get install in the final stage"
    return set(match.group(1).split())


@pytest.mark.parametrize("language", sorted(DOCKERFILES))
def test_dockerfile_copies_the_runner_files_build_sh_copies(language: str) -> None:
    assert dockerfile_runner_files(language) == build_sh_files(language)


@pytest.mark.parametrize("language", sorted(DOCKERFILES))
def test_dockerfile_installs_the_debian_packages_of_the_local_build(language: str) -> None:
    assert dockerfile_packages(language) == debootstrap_packages(language)


def test_javascript_dockerfile_installs_from_the_lockfile_without_scripts() -> None:
    text = DOCKERFILES["javascript"].read_text()
    assert "javascript/package-lock.json" in text
    assert "npm ci --ignore-scripts" in text
    assert "npm ci --ignore-scripts" in IMAGES_SH
