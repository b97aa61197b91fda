"""Where things live: the project checkout, its caches and its workspaces.

All generated things go under two git-ignored directories: ``cache/``
(git mirrors, Buildroot trees, downloads, task state) and
``workspaces/<ws>/`` (merged configuration and Buildroot's ``O=``).
The environment variables that change where skiffbuild looks
(``SKIFFBUILD_PROJECT``, ``SKIFFBUILD_LAYER_PATH``) are interpreted here, from the
settings' environment (``core.settings``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from skiffbuild.core.errors import SkiffError
from skiffbuild.core.settings import ENV_LAYER_PATH, ENV_PROJECT

__all__ = ["Project", "WorkspacePaths"]

@dataclass(frozen=True)
class WorkspacePaths:
    root: Path  # workspaces/<ws>

    @property
    def config(self) -> Path:
        """Merged fragments, generated hook scripts, the plan record."""
        return self.root / "config"

    @property
    def output(self) -> Path:
        """Buildroot's O= directory."""
        return self.root / "output"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def defconfig(self) -> Path:
        return self.config / "buildroot.defconfig"

    @property
    def dotconfig(self) -> Path:
        return self.output / ".config"

    @property
    def sources(self) -> Path:
        """The verified source list of the last successful sources:<ws>."""
        return self.config / "sources.json"

    @property
    def report(self) -> Path:
        """Validation findings of the last configuration, as JSON."""
        return self.config / "check.json"

    @property
    def state(self) -> Path:
        """The workspace lock, completion records and what each stage recorded."""
        return self.root / "state"

    @property
    def compile_record(self) -> Path:
        """What compile:<ws> built: the tree, toolchain, host tools and image digests."""
        return self.state / "compile.json"

    @property
    def images(self) -> Path:
        """Buildroot's own images (``BINARIES_DIR``)."""
        return self.output / "images"

    @property
    def image_dir(self) -> Path:
        """What image:<ws> assembles: the disk image, partitions, SHA256SUMS."""
        return self.root / "image"

    @property
    def disk(self) -> Path:
        return self.image_dir / f"{self.root.name}.img"

    @property
    def sums(self) -> Path:
        """SHA256SUMS of the assembled image, written last."""
        return self.image_dir / "SHA256SUMS"

    @property
    def update_dir(self) -> Path:
        """update:<ws>'s bundle, its .sha256 and update-info.json."""
        return self.root / "update"

    @property
    def repro(self) -> Path:
        """The last reproducibility report."""
        return self.root / "repro"


@dataclass(frozen=True)
class Project:
    root: Path
    layer_path: tuple[Path, ...] = ()  # extra layer roots, before the built-in layers/

    @classmethod
    def discover(cls, start: Path | None = None, *, environ: Mapping[str, str]) -> Project:
        """The project around ``start`` (default: the current directory), or the one
        ``SKIFFBUILD_PROJECT`` names; ``SKIFFBUILD_LAYER_PATH`` adds layer roots."""
        env = environ
        if env.get(ENV_PROJECT):
            root = Path(env[ENV_PROJECT]).expanduser().resolve()
            if not (root / "manifests").is_dir():
                raise SkiffError(f"{ENV_PROJECT}={root} has no manifests/ directory")
        else:
            here = (start or Path.cwd()).resolve()
            for candidate in (here, *here.parents):
                if (candidate / "manifests" / "boards").is_dir():
                    root = candidate
                    break
            else:
                raise SkiffError(
                    f"no skiffbuild project found in {here} or its parents",
                    hint="run from a checkout that has manifests/boards/, "
                    f"or set {ENV_PROJECT}",
                )
        extra = tuple(
            Path(p).expanduser().resolve()
            for p in env.get(ENV_LAYER_PATH, "").split(":")
            if p.strip()
        )
        return cls(root=root, layer_path=extra)

    @property
    def manifests(self) -> Path:
        return self.root / "manifests"

    @property
    def boards_dir(self) -> Path:
        return self.manifests / "boards"

    @property
    def layers_dir(self) -> Path:
        return self.root / "layers"

    @property
    def overrides_dir(self) -> Path:
        return self.root / "overrides"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def dl_dir(self) -> Path:
        """The shared download directory, in Buildroot's own dl/ layout."""
        return self.cache / "dl"

    @property
    def state_dir(self) -> Path:
        return self.cache / "state"

    def workspace(self, name: str) -> WorkspacePaths:
        return WorkspacePaths(self.root / "workspaces" / name)

    def display(self, path: Path) -> str:
        """A path as shown to the user: relative to the project when inside it."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def layer_roots(self) -> tuple[Path, ...]:
        """Layer search path: earlier entries shadow later ones and layers/."""
        return (*self.layer_path, self.layers_dir)
