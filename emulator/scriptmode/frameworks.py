"""Recognise AWS's framework images and check the framework is installed in the user's environment."""

from __future__ import annotations

import importlib.metadata
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Framework:
    """One SageMaker framework container family."""

    name: str                 # "sklearn", "xgboost", ...
    distribution: str         # the PyPI package that provides it
    repositories: tuple[str, ...]  # ECR repository names (training, inference, processing)
    alternatives: tuple[str, ...] = ()  # other distributions providing the same module


FRAMEWORKS = (
    Framework("sklearn", "scikit-learn", ("sagemaker-scikit-learn",)),
    Framework("xgboost", "xgboost", ("sagemaker-xgboost",), ("xgboost-cpu",)),
    Framework("pytorch", "torch", ("pytorch-training", "pytorch-inference", "sagemaker-pytorch")),
    Framework("tensorflow", "tensorflow", ("tensorflow-training", "tensorflow-inference", "sagemaker-tensorflow",
                                           "sagemaker-tensorflow-scriptmode"), ("tensorflow-cpu", "tensorflow-macos")),
    Framework("huggingface", "transformers", ("huggingface-pytorch-training", "huggingface-pytorch-inference",
                                              "huggingface-tensorflow-training", "huggingface-tensorflow-inference")),
)
_BY_REPOSITORY = {repo: fw for fw in FRAMEWORKS for repo in fw.repositories}
_IMAGE = re.compile(r"^(?:[^/]+/)?(?P<repo>[a-z0-9._/-]+?)(?::(?P<tag>[^@]+))?(?:@.*)?$")


@dataclass(frozen=True)
class FrameworkImage:
    """A parsed framework image URI."""

    framework: Framework
    version: str | None  # "1.2-1" -> "1.2"; None when the tag carries none

    @property
    def major(self) -> str | None:
        return self.version.split(".")[0] if self.version else None


def framework_image(image_uri: str | None) -> FrameworkImage | None:
    """``683313688378.dkr.ecr.<region>.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3`` -> sklearn 1.2;
    None for an image that is not one of AWS's framework containers (any account, any region)."""
    if not image_uri:
        return None
    match = _IMAGE.match(image_uri.strip().lower())
    if not match:
        return None
    repo = match.group("repo").rsplit("/", 1)[-1]
    framework = _BY_REPOSITORY.get(repo)
    if framework is None:
        return None
    tag = match.group("tag") or ""
    version = re.match(r"(\d+(?:\.\d+)*)", tag.split("-transformers")[-1] if framework.name == "huggingface" else tag)
    return FrameworkImage(framework, version.group(1) if version else None)


def installed_version(distribution: str, extra_paths: list[str] | None = None) -> str | None:
    """The installed version of a distribution (looking first in ``extra_paths``), or None."""
    if extra_paths:
        for dist in importlib.metadata.distributions(path=extra_paths):
            if (dist.metadata["Name"] or "").lower().replace("_", "-") == distribution:
                return dist.version
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


class FrameworkMissing(ValueError):
    """The framework the image stands for is not installed where the user's code runs."""


def check_framework(image: FrameworkImage, requested_version: str | None,
                    extra_paths: list[str] | None = None) -> str | None:
    """Raise FrameworkMissing naming the package when absent; return a warning line when the installed
    major version differs from the requested one (None when it matches)."""
    fw = image.framework
    requested = requested_version or image.version
    installed = next(filter(None, (installed_version(d, extra_paths) for d in (fw.distribution, *fw.alternatives))),
                     None)
    if installed is None:
        wanted = f"=={requested}.*" if requested else ""
        raise FrameworkMissing(
            f"The {fw.name} framework is not installed in the emulator's Python environment: "
            f"install it with 'pip install {fw.distribution}{wanted}' (script mode runs the user's code on the host, "
            f"without the framework container).")
    if requested and installed.split(".")[0] != requested.split(".")[0].split("-")[0]:
        return (f"WARNING: framework_version {requested} was requested but {fw.distribution} {installed} is installed; "
                f"running with the installed version.")
    return None
