"""doit entry point: `doit list`, `doit config:pi4`, `doit image:qemu-x86_64`.

Thin on purpose: the task creators live in skiffbuild.engine.tasks.
"""

from skiffbuild.engine.tasks import *  # noqa: F403
