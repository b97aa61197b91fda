################################################################################
#
# skeleton-init-systemd
#
################################################################################

# No download: the files are in this tree.

SKELETON_INIT_SYSTEMD_ADD_TOOLCHAIN_DEPENDENCY = NO
SKELETON_INIT_SYSTEMD_ADD_SKELETON_DEPENDENCY = NO
SKELETON_INIT_SYSTEMD_DEPENDENCIES = skeleton-init-common
SKELETON_INIT_SYSTEMD_PROVIDES = skeleton

# What systemd expects of the root filesystem: /var/run and /var/lock into
# /run, /home and /srv, /etc/fstab with / read-only unless
# BR2_TARGET_GENERIC_REMOUNT_ROOTFS_RW, and with BR2_INIT_SYSTEMD_VAR_FACTORY
# a /var filled at boot from /usr/share/factory/var (moved there when each
# filesystem image is made; the tree's init copies it onto a tmpfs, which
# systemd does with tmpfiles.d and var.mount).
define SKELETON_INIT_SYSTEMD_INSTALL_TARGET_CMDS
	$(Q)mkdir -p $(TARGET_DIR)/home $(TARGET_DIR)/srv $(TARGET_DIR)/var
	$(Q)ln -snf ../run $(TARGET_DIR)/var/run
	$(Q)ln -snf ../run/lock $(TARGET_DIR)/var/lock
	$(Q)echo "/dev/root / auto $(if $(BR2_TARGET_GENERIC_REMOUNT_ROOTFS_RW),rw,ro) 0 1" \
		> $(TARGET_DIR)/etc/fstab
endef

ifeq ($(BR2_TARGET_GENERIC_REMOUNT_ROOTFS_RW)$(BR2_INIT_SYSTEMD_VAR_FACTORY),y)
define SKELETON_INIT_SYSTEMD_PRE_ROOTFS_VAR_FACTORY
	rm -rf $(TARGET_DIR)/usr/share/factory/var
	mkdir -p $(TARGET_DIR)/usr/share/factory $(TARGET_DIR)/usr/lib/tmpfiles.d
	mv $(TARGET_DIR)/var $(TARGET_DIR)/usr/share/factory/var
	mkdir -p $(TARGET_DIR)/var
	for i in $(TARGET_DIR)/usr/share/factory/var/* \
		 $(TARGET_DIR)/usr/share/factory/var/lib/* \
		 $(TARGET_DIR)/usr/share/factory/var/lib/systemd/*; do \
		[ -e "$${i}" ] || [ -L "$${i}" ] || continue; \
		j="$${i#$(TARGET_DIR)/usr/share/factory}"; \
		if [ -L "$${i}" ]; then \
			printf "L+! %s - - - - %s\n" "$${j}" "../usr/share/factory/$${j}"; \
		else \
			printf "C! %s - - - -\n" "$${j}"; \
		fi; \
	done | LC_ALL=C sort > $(TARGET_DIR)/usr/lib/tmpfiles.d/00-buildroot-var.conf
endef
SKELETON_INIT_SYSTEMD_ROOTFS_PRE_CMD_HOOKS += SKELETON_INIT_SYSTEMD_PRE_ROOTFS_VAR_FACTORY
endif

$(eval $(generic-package))
