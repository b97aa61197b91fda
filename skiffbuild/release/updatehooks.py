"""What layers add to an update bundle: install hooks that run on the device, bundle
hooks that run on the build host.

``hooks: update_install: [...]`` (overrides: ``hooks/update-install.sh``) are RAUC hooks.
RAUC runs one hook file per bundle; skiffbuild puts each layer's script in the bundle as
``hooks.d/<NN>-<layer>-<name>`` and a dispatcher ``hook`` that runs them in chain order
with RAUC's arguments and environment (``$1`` is ``install-check``, ``slot-pre-install``
or ``slot-post-install``; ``RAUC_MF_COMPATIBLE``, ``RAUC_SLOT_CLASS``,
``RAUC_SLOT_MOUNT_POINT``... as RAUC documents them). The first script that fails stops
the install; in ``install-check``, exit 10 with a message on standard error is RAUC's
way to refuse a bundle, and the device keeps running. The manifest enables
``install-check`` and each slot's ``pre-install;post-install`` (never ``install``, which
would replace RAUC's own write of the slot).

``hooks: update_bundle: [...]`` (overrides: ``hooks/update-bundle.sh``) run when
update:<ws> stages the bundle, before it is signed, confined like the build's hooks:
only the staging directory is writable. ``$1`` is the bundle's content directory; they
may add files (data for the install hooks). They may not change what skiffbuild put
there (the manifest, the slot images, skiffbuild-info.json, the install hooks): that is
checked, and the added files are normalised like the rest, so the payload stays
reproducible.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import stat
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from skiffbuild.buildroot.hooks import CONFINE, confine_script
from skiffbuild.core.errors import SkiffError
from skiffbuild.core.fsutil import sha256_file
from skiffbuild.core.runner import capture, run
from skiffbuild.model.model import Layer

__all__ = ["DISPATCHER", "HOOKS_DIR", "RAUC_BUNDLE_HOOKS", "RAUC_SLOT_HOOKS", "install_hooks",
           "run_bundle_hooks", "stage_install_hooks"]

DISPATCHER = "hook"
HOOKS_DIR = "hooks.d"
RAUC_BUNDLE_HOOKS = "install-check"
RAUC_SLOT_HOOKS = "pre-install;post-install"

_DISPATCH = """\
#!/bin/sh
# RAUC bundle hook written by skiffbuild update:{ws}: runs the layers' update_install
# hooks in chain order with RAUC's arguments ($1: install-check, slot-pre-install,
# slot-post-install) and environment. The first that fails decides: its status is
# RAUC's (in install-check, 10 and a message on standard error refuse the bundle).
set -u
dir=$(dirname "$0")/{hooks_dir}
for hook in {names}; do
    "$dir/$hook" "$@" || exit $?
done
exit 0
"""


def install_hooks(chain: Sequence[Layer]) -> list[tuple[Layer, Path]]:
    return [(layer, script) for layer in chain for script in layer.update_install]


def _bundle_name(index: int, layer: Layer, script: Path) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "-", f"{index:02d}-{layer.name}-{script.name}")


def stage_install_hooks(hooks: Sequence[tuple[Layer, Path]], staging: Path, ws: str) -> bool:
    """Copy the install hooks and the dispatcher into ``staging``; False if none."""
    if not hooks:
        return False
    (staging / HOOKS_DIR).mkdir()
    names = []
    for index, (layer, script) in enumerate(hooks, 1):
        name = _bundle_name(index, layer, script)
        shutil.copyfile(script, staging / HOOKS_DIR / name)
        (staging / HOOKS_DIR / name).chmod(0o755)
        names.append(name)
    (staging / DISPATCHER).write_text(_DISPATCH.format(
        ws=ws, hooks_dir=HOOKS_DIR, names=" ".join(shlex.quote(n) for n in names)))
    (staging / DISPATCHER).chmod(0o755)
    return True


def _digests(content: Path) -> dict[str, str]:
    """Each entry's kind, mode and content digest: what a hook may not change."""
    found = {}
    for path in sorted(content.rglob("*")):
        mode = os.lstat(path).st_mode
        if stat.S_ISREG(mode):
            what = sha256_file(path)
        elif stat.S_ISDIR(mode):
            what = "dir"
        else:  # a symlink, FIFO or device node has no place in a bundle
            what = "special"
        found[str(path.relative_to(content))] = f"{what} {mode & 0o7777:o}"
    return found


def run_bundle_hooks(hooks: Sequence[tuple[Layer, Path]], content: Path,
                     env: Mapping[str, str], log: Path,
                     echo: Callable[[str], None]) -> list[str]:
    """Run the bundle hooks on ``content`` (confined: only its parent directory is
    writable, and the hook's processes end with it). Returns the files they added. A hook
    that fails is a BuildError; one that changes or removes a file already there, or adds
    a hidden or special file, a SkiffError."""
    if not hooks:
        return []
    work = content.parent
    first = before = _digests(content)
    namespace = _namespace()
    if not namespace:
        echo("warning: no mount and PID namespace can be made here: the update_bundle hooks "
             "run unconfined")
    # confine.sh lives outside the writable directory: a hook cannot rewrite it for the next.
    with tempfile.TemporaryDirectory(prefix="skiffbuild-confine-") as private:
        confine = Path(private) / CONFINE
        confine.write_text(confine_script())
        try:
            for layer, script in hooks:
                argv: list[str | Path] = [script, content]
                if namespace:
                    argv = [*namespace, "sh", confine, work, *argv]
                extra = {**env, "SKIFFBUILD_LAYER": layer.name,
                         "SKIFFBUILD_LAYER_DIR": str(layer.path),
                         "SKIFFBUILD_BUNDLE_DIR": str(content)}
                run(argv, log=log, extra_env=extra, cwd=layer.path,
                    what=f"update_bundle hook {layer.name}: {script.name}")
                after = _digests(content)
                _check(layer, script, before, after)
                before = after
        finally:
            shutil.rmtree(work / ".skiffbuild-tmp", ignore_errors=True)
    return [n for n in before if n not in first]


def _check(layer: Layer, script: Path, before: Mapping[str, str],
           after: Mapping[str, str]) -> None:
    said = f"update_bundle hook {layer.name}: {script.name}"
    changed = sorted(n for n, d in before.items() if after.get(n) != d)
    if changed:
        raise SkiffError(f"{said} changed or removed {', '.join(changed)} in the bundle; "
                         "bundle hooks may only add files")
    added = [n for n in after if n not in before]
    hidden = [n for n in added if any(part.startswith(".") for part in Path(n).parts)]
    if hidden:
        raise SkiffError(f"{said} added hidden files to the bundle: {', '.join(hidden)}")
    special = [n for n in added if after[n].startswith("special ")]
    if special:
        raise SkiffError(f"{said} added files that are neither regular files nor "
                         f"directories: {', '.join(special)}")


# As the build's hooks (buildroot.hooks): root's own mount namespace, else a user
# namespace keeping the caller's uid; in a PID namespace of their own, so that nothing a
# hook leaves running can touch the staging directory afterwards. Neither possible:
# unconfined, with a warning.
_NAMESPACES = (("unshare", "--mount", "--pid", "--fork", "--kill-child", "--propagation",
                "private"),
               ("unshare", "--user", "--map-current-user", "--mount", "--pid", "--fork",
                "--kill-child", "--propagation", "private"))
_FOUND: list[tuple[str, ...]] = []


def _namespace() -> tuple[str, ...]:
    if not _FOUND:
        usable = [ns for ns in _NAMESPACES if shutil.which("unshare") and
                  capture([*ns, "true"], timeout=30).ok]
        _FOUND.append(usable[0] if usable else ())
    return _FOUND[0]
