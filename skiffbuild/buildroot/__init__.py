"""Everything that knows Buildroot: mirrors and pinned checkouts, Kconfig, the merged
configuration, show-info, ``.hash`` files, package overrides, the toolchain, and make itself.
"""
