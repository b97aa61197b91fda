################################################################################
#
# dropbear
#
################################################################################

DROPBEAR_VERSION = 2026.91
DROPBEAR_SITE = https://sources.skiffbuild.invalid/dropbear
DROPBEAR_LICENSE = MIT, BSD-2-Clause, Public domain
DROPBEAR_LICENSE_FILES = LICENSE

# The small variant builds the bundled libtommath and libtomcrypt (as
# Buildroot): their licences too.
ifeq ($(BR2_PACKAGE_DROPBEAR_SMALL),y)
DROPBEAR_LICENSE += , Unlicense, WTFPL
DROPBEAR_LICENSE_FILES += libtommath/LICENSE libtomcrypt/LICENSE
endif

DROPBEAR_DEPENDENCIES = \
	$(if $(BR2_PACKAGE_ZLIB),zlib) \
	$(if $(BR2_PACKAGE_LIBXCRYPT),libxcrypt)

# Buildroot compiles dropbear; this tree cannot. Instead, for a target of the
# build machine's architecture, it installs the BUILD MACHINE's dropbear
# (Debian's dropbear-bin: /usr/sbin/dropbear, and /usr/bin/dropbearkey,
# /usr/bin/dbclient when present), with the shared libraries ldd lists and the
# dynamic loader, under /usr/lib/dropbear-host/, and wrappers at Buildroot's
# paths that run them through that loader (see host-dropbear;
# /usr/lib/dropbear-host/SOURCES names the Debian versions). So the images run
# a real SSH server. Other architectures get stand-in programs (they print a
# line and exit). As in Buildroot, /etc/dropbear points to /var/run/dropbear
# (host keys on a read-only root) and the client comes with an ssh link. The
# version above is that of the stand-in source archive, not of the program.
DROPBEAR_PROGRAMS = /usr/sbin/dropbear /usr/bin/dropbearkey \
	$(if $(BR2_PACKAGE_DROPBEAR_CLIENT),/usr/bin/dbclient)

ifeq ($(call qstrip,$(BR2_ARCH)),$(HOSTARCH))
define DROPBEAR_BUILD_CMDS
	$(Q)test -x /usr/sbin/dropbear || { \
		echo "dropbear: /usr/sbin/dropbear not found on the build machine: the test" \
			"tree installs the build machine's dropbear; install Debian's dropbear-bin" \
			"(scripts/setup)" >&2; \
		exit 1; }
endef

# <path in the target>=<program on the build machine>
define DROPBEAR_INSTALL_PROGRAMS
	$(Q)$(SHELL) $(DROPBEAR_PKGDIR)/host-dropbear $(TARGET_DIR) \
		$(foreach p,$(DROPBEAR_PROGRAMS),$(p)=$(p))
endef
else
define DROPBEAR_INSTALL_PROGRAMS
	$(foreach p,$(DROPBEAR_PROGRAMS),\
		$(call standin-program,$(TARGET_DIR)$(p),dropbear $(DROPBEAR_VERSION))$(sep))
endef
endif

define DROPBEAR_INSTALL_TARGET_CMDS
	$(DROPBEAR_INSTALL_PROGRAMS)
	$(if $(BR2_PACKAGE_DROPBEAR_CLIENT),$(Q)ln -snf dbclient $(TARGET_DIR)/usr/bin/ssh)
	$(Q)ln -snf /var/run/dropbear $(TARGET_DIR)/etc/dropbear
endef

define DROPBEAR_INSTALL_INIT_SYSTEMD
	$(Q)install -D -m 0644 $(DROPBEAR_PKGDIR)/dropbear.service \
		$(TARGET_DIR)/usr/lib/systemd/system/dropbear.service
endef

$(eval $(generic-package))
