################################################################################
#
# busybox
#
################################################################################

BUSYBOX_VERSION = 1.37.0
BUSYBOX_SITE = https://sources.skiffbuild.invalid/busybox
BUSYBOX_LICENSE = GPL-2.0, bzip2-1.0.4
BUSYBOX_LICENSE_FILES = LICENSE archival/libarchive/bz/LICENSE

# busybox installs its applets first: the full tools of these win.
BUSYBOX_DEPENDENCIES = \
	$(if $(BR2_PACKAGE_KMOD),kmod) \
	$(if $(BR2_PACKAGE_LIBXCRYPT),libxcrypt) \
	$(if $(BR2_PACKAGE_SYSTEMD),systemd) \
	$(if $(BR2_PACKAGE_UTIL_LINUX),util-linux)

# Stand-in build: no compilation. The package installs the build machine's
# static BusyBox (TESTTREE_BUSYBOX, default /bin/busybox from Debian's
# busybox-static) as /bin/busybox, with links for the applets of
# busybox.links that this binary has; files other packages installed there
# are kept (BusyBox's "noclobber" installation); mountpoint, which Debian's
# binary lacks, is a small script then. With BR2_INIT_BUSYBOX it also
# installs the tree's init (support/testing/stand-in-init) as /sbin/init.
# BR2_PACKAGE_BUSYBOX_CONFIG and the configuration fragments are only
# recorded in the build directory's .config (a changed fragment rebuilds
# the package, as in Buildroot).
BUSYBOX_KCONFIG_FILE = $(call qstrip,$(BR2_PACKAGE_BUSYBOX_CONFIG))
BUSYBOX_KCONFIG_FRAGMENT_FILES = $(call qstrip,$(BR2_PACKAGE_BUSYBOX_CONFIG_FRAGMENT_FILES))

define BUSYBOX_BUILD_CMDS
	$(Q)test -x $(TESTTREE_BUSYBOX) || { \
		echo "busybox: $(TESTTREE_BUSYBOX) not found: install Debian's busybox-static" \
			"(scripts/setup) or pass TESTTREE_BUSYBOX=<static busybox> to make" >&2; \
		exit 1; }
	$(Q)if LC_ALL=C readelf -l $(TESTTREE_BUSYBOX) 2>/dev/null | grep -q 'Requesting program interpreter'; then \
		echo "busybox: $(TESTTREE_BUSYBOX) is dynamically linked; a static BusyBox is needed" >&2; \
		exit 1; fi
	$(Q)cp $(TESTTREE_BUSYBOX) $(@D)/busybox
	$(Q)chmod 0755 $(@D)/busybox
	$(Q)$(@D)/busybox --list > $(@D)/busybox.applets
endef

define BUSYBOX_INSTALL_TARGET_CMDS
	$(Q)install -D -m 0755 $(@D)/busybox $(TARGET_DIR)/bin/busybox
	$(Q)sed -e 's/#.*//' $(BUSYBOX_PKGDIR)/busybox.links | while read -r link; do \
		[ -n "$$link" ] || continue; \
		grep -qxF "$${link##*/}" $(@D)/busybox.applets || continue; \
		case $$link in \
		/bin/*) rel=busybox ;; \
		/sbin/*) rel=../bin/busybox ;; \
		*) rel=../../bin/busybox ;; \
		esac; \
		if [ -e $(TARGET_DIR)$$link ] || [ -L $(TARGET_DIR)$$link ]; then continue; fi; \
		mkdir -p $$(dirname $(TARGET_DIR)$$link); \
		ln -s $$rel $(TARGET_DIR)$$link; \
	done
	$(Q)if ! grep -qxF mountpoint $(@D)/busybox.applets && [ ! -e $(TARGET_DIR)/bin/mountpoint ]; then \
		install -m 0755 $(BUSYBOX_PKGDIR)/mountpoint $(TARGET_DIR)/bin/mountpoint; fi
	$(if $(BR2_INIT_BUSYBOX),$(Q)rm -f $(TARGET_DIR)/sbin/init && \
		install -m 0755 $(TOPDIR)/support/testing/stand-in-init $(TARGET_DIR)/sbin/init)
endef

$(eval $(generic-package))
$(eval $(call standin-kconfig,busybox,BUSYBOX))
