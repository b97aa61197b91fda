#!/usr/bin/env python3
"""Configuration writer of the skiffbuild Buildroot-compatible test tree.

Stands in for Buildroot's kconfig `conf` (which is C), with kconfiglib doing
the resolution, and follows the same command line and environment:

  conf.py --defconfig[=FILE] Config.in   load FILE in replace mode (none: all
                                         defaults), write $BR2_CONFIG
  conf.py --olddefconfig Config.in       load $BR2_CONFIG, new symbols get
                                         their defaults, write it back
  conf.py --syncconfig Config.in         as --olddefconfig, then also write
                                         $KCONFIG_AUTOCONFIG/_AUTOHEADER
  conf.py --alldefconfig Config.in       all defaults, seeded from
                                         $KCONFIG_ALLCONFIG when set
  conf.py --savedefconfig=FILE Config.in load $BR2_CONFIG, write the minimal
                                         configuration to FILE
  conf.py --menuconfig Config.in         kconfiglib's menuconfig on $BR2_CONFIG

It runs from the top of the tree (relative `source` paths) with the
environment Buildroot's Makefile gives its conf (BASE_DIR, BR2_DEFCONFIG,
BR2_CONFIG, HOST_GCC_VERSION, SKIP_LEGACY, BR2_VERSION_FULL, HOSTARCH,
BR2_EXTERNAL_<NAME>_PATH, ...) and turns it into the environment kconfiglib
needs to resolve exactly like Buildroot's conf:

  * BR2_BASE_DIR = BASE_DIR: kconfiglib expands `source "$BR2_BASE_DIR/..."`
    from the environment (it ignores the `option env` bounce symbol);
  * BASE_DIR, TOPDIR, CONFIG_DIR, ARCH and HOME become the literal strings
    "$(BASE_DIR)" etc., because kconfiglib expands $(VAR) in Kconfig strings
    while Buildroot keeps defaults like "$(TOPDIR)/dl" for make to expand;
  * CONFIG_ is forced to "" (see below).

CONFIG_ in the environment: Buildroot's conf uses it as the symbol prefix
of the files it reads and writes, so CONFIG_=BR2_ makes it write
BR2_BR2_... lines and ignore every input line. This tree always uses an
empty prefix instead, whatever the environment says: the files are the same
as Buildroot's with CONFIG_ unset, and a stray CONFIG_ (merge_config.sh
users set CONFIG_=BR2_) cannot corrupt a configuration.

The .config body is kconfiglib's format (it adds "# end of <menu>" comment
lines that Buildroot's conf does not write); the values are the same. An
unchanged .config is not rewritten.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import sys

try:
    import kconfiglib
except ImportError:  # the tree's make runs $(HOSTPYTHON), default python3
    sys.exit(f"conf.py: kconfiglib is not installed for {sys.executable}; "
             "install it (pip install kconfiglib) or pass HOSTPYTHON=<python> to make")

# Make variables that Buildroot's Kconfig defaults use in $(...) form.
MAKE_VARIABLES = ("BASE_DIR", "TOPDIR", "CONFIG_DIR", "ARCH", "HOME")

# kconfiglib warnings that Buildroot's conf has no equivalent of.
BENIGN_WARNINGS = (
    "Kconfiglib expands environment variables in strings directly",
    "has 'option env=",
)


def prepare_environment() -> None:
    base_dir = os.environ.get("BASE_DIR", "")
    os.environ["BR2_BASE_DIR"] = base_dir
    for name in MAKE_VARIABLES:
        os.environ[name] = f"$({name})"
    os.environ["CONFIG_"] = ""
    os.environ.setdefault("srctree", os.getcwd())


def header(kconf: kconfiglib.Kconfig) -> str:
    return f"#\n# Automatically generated file; DO NOT EDIT.\n# {kconf.mainmenu_text}\n#\n"


def print_warnings(kconf: kconfiglib.Kconfig) -> None:
    for warning in kconf.warnings:
        if not any(benign in warning for benign in BENIGN_WARNINGS):
            print(warning, file=sys.stderr)


def config_path() -> str:
    path = os.environ.get("BR2_CONFIG")
    if not path:
        print("conf: BR2_CONFIG is not set", file=sys.stderr)
        sys.exit(2)
    return path


def write_config(kconf: kconfiglib.Kconfig, path: str) -> None:
    """Write .config atomically, keeping the previous one as .config.old (as conf does).

    An unchanged file is left alone, so make sees no newer .config.
    """
    tmp = f"{path}.tmp.{os.getpid()}"
    kconf.write_config(tmp, header=header(kconf), save_old=False)
    if os.path.isfile(path) and filecmp.cmp(tmp, path, shallow=False):
        os.unlink(tmp)
    else:
        if os.path.isfile(path):
            os.replace(path, path + ".old")
        os.replace(tmp, path)
    print(f"#\n# configuration written to {path}\n#")


def write_autoconf(kconf: kconfiglib.Kconfig) -> None:
    """auto.conf (make syntax, only symbols not 'n') and autoconf.h."""
    autoconf = os.environ.get("KCONFIG_AUTOCONFIG")
    if autoconf:
        os.makedirs(os.path.dirname(autoconf) or ".", exist_ok=True)
        lines = [header(kconf)]
        for sym in kconf.unique_defined_syms:
            text = sym.config_string
            if text and not text.startswith("#"):
                lines.append(text)
        with open(autoconf + ".tmp", "w") as f:
            f.write("".join(lines))
        os.replace(autoconf + ".tmp", autoconf)
    autoheader = os.environ.get("KCONFIG_AUTOHEADER")
    if autoheader:
        os.makedirs(os.path.dirname(autoheader) or ".", exist_ok=True)
        kconf.write_autoconf(autoheader, header="/* Automatically generated file */\n")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="conf.py", allow_abbrev=False)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--defconfig", metavar="FILE")
    mode.add_argument("--savedefconfig", metavar="FILE")
    for name in ("olddefconfig", "syncconfig", "alldefconfig", "menuconfig"):
        mode.add_argument(f"--{name}", action="store_true")
    parser.add_argument("kconfig", metavar="Config.in")
    # Like getopt's optional arguments: "--defconfig" alone takes no file
    # (only "--defconfig=FILE" does), so it must not swallow Config.in.
    return parser.parse_args(["--defconfig=" if a == "--defconfig" else a for a in argv])


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    prepare_environment()
    kconf = kconfiglib.Kconfig(args.kconfig, warn_to_stderr=False)
    dotconfig = config_path()

    if args.defconfig is not None:
        if args.defconfig:
            if not os.path.isfile(args.defconfig):
                print(f'***\n*** Can\'t find default configuration "{args.defconfig}"!\n***',
                      file=sys.stderr)
                return 1
            kconf.load_config(args.defconfig, replace=True)
        print_warnings(kconf)
        write_config(kconf, dotconfig)
    elif args.alldefconfig:
        seed = os.environ.get("KCONFIG_ALLCONFIG", "")
        if seed not in ("", "1"):
            if not os.path.isfile(seed):
                print(f'*** Can\'t read seed configuration "{seed}"!', file=sys.stderr)
                return 1
            kconf.load_config(seed, replace=True)
        print_warnings(kconf)
        write_config(kconf, dotconfig)
    elif args.savedefconfig:
        if os.path.exists(dotconfig):
            kconf.load_config(dotconfig, replace=True)
        print_warnings(kconf)
        kconf.write_min_config(args.savedefconfig, header="")
    elif args.menuconfig:
        import menuconfig  # kconfiglib's curses interface

        os.environ["KCONFIG_CONFIG"] = dotconfig
        kconf.config_header = header(kconf)
        if os.path.exists(dotconfig):
            kconf.load_config(dotconfig, replace=True)
        menuconfig.menuconfig(kconf)
    else:  # olddefconfig, syncconfig
        if os.path.exists(dotconfig):
            kconf.load_config(dotconfig, replace=True)
        print_warnings(kconf)
        write_config(kconf, dotconfig)
        if args.syncconfig:
            write_autoconf(kconf)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
