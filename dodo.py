"""doit entry point: `doit list`, `doit config:pi4`, `doit image:qemu-x86_64`.

Thin on purpose: the task creators live in skiffbuild.engine.tasks, and get this
process's settings (its environment and doit's command line) once, here.
"""

from skiffbuild.engine.tasks import doit_tasks

globals().update(doit_tasks())
