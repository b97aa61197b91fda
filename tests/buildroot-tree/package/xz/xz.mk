################################################################################
#
# xz
#
################################################################################

XZ_VERSION = 5.8.3
XZ_SITE = https://sources.skiffbuild.invalid/xz
XZ_LICENSE = Public Domain, BSD-0-Clause, GPL-2.0+, GPL-3.0+, LGPL-2.1+
XZ_LICENSE_FILES = COPYING COPYING.0BSD COPYING.GPLv2 COPYING.GPLv3 COPYING.LGPLv2.1

XZ_INSTALL_STAGING = YES

# Host: the build machine's xz.
define HOST_XZ_INSTALL_CMDS
	$(call host-tool-wrappers,bin/xz bin/unxz bin/xzcat)
endef

$(eval $(generic-package))
$(eval $(host-generic-package))
