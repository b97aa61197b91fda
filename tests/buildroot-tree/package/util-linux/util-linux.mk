################################################################################
#
# util-linux
#
################################################################################

UTIL_LINUX_VERSION = 2.41.4
UTIL_LINUX_SITE = https://sources.skiffbuild.invalid/util-linux
UTIL_LINUX_LICENSE = \
	GPL-2.0+, \
	BSD-4-Clause, \
	LGPL-2.1+ (libblkid, libfdisk, libmount), \
	BSD-3-Clause (libuuid), \
	BSD-2-Clause (xxhash), \
	ISC (rfkill), \
	MIT (hardlink, flock)
UTIL_LINUX_LICENSE_FILES = README.licensing \
	Documentation/licenses/COPYING.BSD-2-Clause \
	Documentation/licenses/COPYING.BSD-3-Clause \
	Documentation/licenses/COPYING.BSD-4-Clause-UC \
	Documentation/licenses/COPYING.EUPL-1.2 \
	Documentation/licenses/COPYING.GPL-2.0-only \
	Documentation/licenses/COPYING.GPL-2.0-or-later \
	Documentation/licenses/COPYING.GPL-3.0-or-later \
	Documentation/licenses/COPYING.ISC \
	Documentation/licenses/COPYING.LGPL-2.1-or-later \
	Documentation/licenses/COPYING.MIT

# A fix fetched from the package's site and applied after extraction
# (host-util-linux takes it too).
UTIL_LINUX_PATCH = util-linux-$(UTIL_LINUX_VERSION)-skiffbuild.patch
UTIL_LINUX_INSTALL_STAGING = YES
UTIL_LINUX_DEPENDENCIES = $(if $(BR2_PACKAGE_LIBXCRYPT),libxcrypt)

# Target: nothing (BusyBox provides mount, mountpoint, ...). Host: the build
# machine's tools image scripts use.
define HOST_UTIL_LINUX_INSTALL_CMDS
	$(call host-tool-wrappers,sbin/sfdisk sbin/fdisk sbin/blkid sbin/mkswap bin/uuidgen)
endef

$(eval $(generic-package))
$(eval $(host-generic-package))
