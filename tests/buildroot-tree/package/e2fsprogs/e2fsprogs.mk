################################################################################
#
# e2fsprogs
#
################################################################################

E2FSPROGS_VERSION = 1.47.3
E2FSPROGS_SITE = https://sources.skiffbuild.invalid/e2fsprogs
E2FSPROGS_LICENSE = GPL-2.0, MIT-like with advertising clause (libss and libet)
E2FSPROGS_LICENSE_FILES = NOTICE lib/ss/mit-sipb-copyright.h lib/et/internal.h

E2FSPROGS_DEPENDENCIES = util-linux
HOST_E2FSPROGS_DEPENDENCIES = host-util-linux

# Stand-ins. Target: /usr/sbin/e2fsck (and fsck.ext2/3/4) checks nothing
# and exits 0 ("clean"), so that scripts running "e2fsck -p" before a mount
# work; BusyBox provides mke2fs. Host: mke2fs and mkfs.ext2/3/4 run the
# build machine's mke2fs through package/e2fsprogs/mke2fs-wrapper (which,
# with SOURCE_DATE_EPOCH set, clamps the inode times of the image to it, as
# e2fsprogs >= 1.47.1 does), the other tools are the build machine's.
define E2FSPROGS_BUILD_CMDS
	$(Q)mkdir -p $(@D)/standin
	$(Q)printf '%s\n' '#!/bin/sh' \
		'# skiffbuild test tree: stand-in e2fsck of e2fsprogs $(E2FSPROGS_VERSION).' \
		'# Checks nothing: every filesystem is reported clean (exit status 0).' \
		'for arg; do dev=$$arg; done' \
		'echo "e2fsck (skiffbuild test tree stand-in): $${dev:-?}: not checked, assumed clean"' \
		'exit 0' > $(@D)/standin/e2fsck
endef

define E2FSPROGS_INSTALL_TARGET_CMDS
	$(Q)install -D -m 0755 $(@D)/standin/e2fsck $(TARGET_DIR)/usr/sbin/e2fsck
	$(Q)for f in fsck.ext2 fsck.ext3 fsck.ext4; do ln -snf e2fsck $(TARGET_DIR)/usr/sbin/$$f; done
endef

define HOST_E2FSPROGS_INSTALL_CMDS
	$(call host-tool-wrappers,sbin/e2fsck sbin/debugfs sbin/tune2fs sbin/resize2fs sbin/dumpe2fs)
	$(Q)for f in mke2fs mkfs.ext2 mkfs.ext3 mkfs.ext4; do \
		install -D -m 0755 $(E2FSPROGS_PKGDIR)/mke2fs-wrapper $(HOST_DIR)/sbin/$$f || exit 1; \
	done
endef

$(eval $(generic-package))
$(eval $(host-generic-package))
