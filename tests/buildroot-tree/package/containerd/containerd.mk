################################################################################
#
# containerd
#
################################################################################

CONTAINERD_VERSION = 2.0.7
CONTAINERD_SITE = https://sources.skiffbuild.invalid/containerd
CONTAINERD_LICENSE = Apache-2.0
CONTAINERD_LICENSE_FILES = LICENSE

# Go modules are vendored into the archive ("-go2" in its name).
CONTAINERD_DOWNLOAD_POST_PROCESS = go
CONTAINERD_DEPENDENCIES = host-go $(if $(BR2_PACKAGE_LIBSECCOMP),libseccomp)

# Stand-in programs (they print a line and exit) and a systemd unit.
define CONTAINERD_INSTALL_TARGET_CMDS
	$(foreach p,/usr/bin/containerd /usr/bin/containerd-shim-runc-v2 /usr/bin/ctr,\
		$(call standin-program,$(TARGET_DIR)$(p),containerd $(CONTAINERD_VERSION))$(sep))
endef

define CONTAINERD_INSTALL_INIT_SYSTEMD
	$(Q)install -D -m 0644 $(CONTAINERD_PKGDIR)/containerd.service \
		$(TARGET_DIR)/usr/lib/systemd/system/containerd.service
endef

$(eval $(generic-package))
