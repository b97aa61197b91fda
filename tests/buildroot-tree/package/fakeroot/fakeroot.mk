################################################################################
#
# fakeroot
#
################################################################################

FAKEROOT_VERSION = 1.37.1.2
FAKEROOT_SITE = https://sources.skiffbuild.invalid/fakeroot
FAKEROOT_LICENSE = GPL-3.0+
FAKEROOT_LICENSE_FILES = COPYING

FAKEROOT_SOURCE = fakeroot_$(FAKEROOT_VERSION).orig.tar.gz

# host/bin/fakeroot: the build machine's fakeroot (Debian's package
# "fakeroot"). Without it, as root, the command runs as is (ownership is
# real then); as another user that is an error.
define HOST_FAKEROOT_INSTALL_CMDS
	$(Q)mkdir -p $(HOST_DIR)/bin
	$(Q)real=$$(command -v fakeroot 2>/dev/null | grep -v '^$(HOST_DIR)/' || true); \
	{ echo '#!/bin/sh'; \
	  echo '# skiffbuild test tree: the build machine'"'"'s fakeroot.'; \
	  if [ -n "$$real" ]; then echo "exec $$real \"\$$@\""; \
	  else \
	    echo 'if [ "$$(id -u)" -ne 0 ]; then'; \
	    echo '	echo "fakeroot: not installed on the build machine (Debian package fakeroot)" >&2'; \
	    echo '	exit 127'; \
	    echo 'fi'; \
	    echo 'while [ $$# -gt 0 ]; do case $$1 in --) shift; break ;; -*) shift ;; *) break ;; esac; done'; \
	    echo 'exec "$$@"'; \
	  fi; } > $(HOST_DIR)/bin/fakeroot
	$(Q)chmod 0755 $(HOST_DIR)/bin/fakeroot
endef

$(eval $(host-generic-package))
