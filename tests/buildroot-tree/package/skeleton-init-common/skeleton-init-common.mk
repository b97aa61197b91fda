################################################################################
#
# skeleton-init-common
#
################################################################################

# No download: the files are in this tree.

SKELETON_INIT_COMMON_ADD_TOOLCHAIN_DEPENDENCY = NO
SKELETON_INIT_COMMON_ADD_SKELETON_DEPENDENCY = NO
SKELETON_INIT_COMMON_INSTALL_STAGING = YES

# The default skeleton (system/skeleton; its links into /proc are made here,
# so that nothing copying this tree follows them), the /usr merge links and the
# settings of the "System configuration" menu applied at target-finalize:
# /etc/hostname and its /etc/hosts line, /etc/issue, the root password,
# /bin/sh and /etc/shells.
SKELETON_INIT_COMMON_PATH = system/skeleton

define SKELETON_INIT_COMMON_INSTALL_TARGET_CMDS
	$(Q)$(call SYSTEM_RSYNC,$(SKELETON_INIT_COMMON_PATH),$(TARGET_DIR))
	$(Q)$(call SYSTEM_USR_SYMLINKS_OR_DIRS,$(TARGET_DIR))
	$(Q)$(call SYSTEM_LIB_SYMLINK,$(TARGET_DIR))
	$(Q)ln -snf /proc/self/mounts $(TARGET_DIR)/etc/mtab
	$(Q)ln -snf /proc/self/fd $(TARGET_DIR)/dev/fd
	$(Q)ln -snf /proc/self/fd/0 $(TARGET_DIR)/dev/stdin
	$(Q)ln -snf /proc/self/fd/1 $(TARGET_DIR)/dev/stdout
	$(Q)ln -snf /proc/self/fd/2 $(TARGET_DIR)/dev/stderr
	$(Q)sed -i -e 's,@PATH@,$(call qstrip,$(BR2_SYSTEM_DEFAULT_PATH)),' $(TARGET_DIR)/etc/profile
	$(Q)printf '%s\n' 'This directory is where Buildroot-style builds assemble the target' \
		'files; the root filesystem images are made from a copy of it.' > $(TARGET_DIR_WARNING_FILE)
endef

define SKELETON_INIT_COMMON_INSTALL_STAGING_CMDS
	$(Q)$(call SYSTEM_RSYNC,$(SKELETON_INIT_COMMON_PATH),$(STAGING_DIR))
	$(Q)$(call SYSTEM_USR_SYMLINKS_OR_DIRS,$(STAGING_DIR))
	$(Q)$(call SYSTEM_LIB_SYMLINK,$(STAGING_DIR))
	$(Q)install -d -m 0755 $(STAGING_DIR)/usr/include
endef

SKELETON_INIT_COMMON_HOSTNAME = $(call qstrip,$(BR2_TARGET_GENERIC_HOSTNAME))
SKELETON_INIT_COMMON_ISSUE = $(call qstrip,$(BR2_TARGET_GENERIC_ISSUE))
SKELETON_INIT_COMMON_ROOT_PASSWD = $(call qstrip,$(BR2_TARGET_GENERIC_ROOT_PASSWD))
SKELETON_INIT_COMMON_PASSWD_METHOD = $(call qstrip,$(BR2_TARGET_GENERIC_PASSWD_METHOD))
SKELETON_INIT_COMMON_BIN_SH = $(call qstrip,$(BR2_SYSTEM_BIN_SH))

ifneq ($(SKELETON_INIT_COMMON_HOSTNAME),)
SKELETON_INIT_COMMON_SHORT_HOSTNAME = $(firstword $(subst ., ,$(SKELETON_INIT_COMMON_HOSTNAME)))
SKELETON_INIT_COMMON_HOSTS_LINE = $(SKELETON_INIT_COMMON_HOSTNAME) \
	$(filter-out $(SKELETON_INIT_COMMON_HOSTNAME),$(SKELETON_INIT_COMMON_SHORT_HOSTNAME))
define SKELETON_INIT_COMMON_SET_HOSTNAME
	$(Q)mkdir -p $(TARGET_DIR)/etc
	$(Q)echo "$(SKELETON_INIT_COMMON_HOSTNAME)" > $(TARGET_DIR)/etc/hostname
	$(Q)sed -i -e '$$a 127.0.1.1\t$(strip $(SKELETON_INIT_COMMON_HOSTS_LINE))' -e '/^127.0.1.1/d' \
		$(TARGET_DIR)/etc/hosts
endef
SKELETON_INIT_COMMON_TARGET_FINALIZE_HOOKS += SKELETON_INIT_COMMON_SET_HOSTNAME
endif

ifneq ($(SKELETON_INIT_COMMON_ISSUE),)
define SKELETON_INIT_COMMON_SET_ISSUE
	$(Q)mkdir -p $(TARGET_DIR)/etc
	$(Q)echo "$(SKELETON_INIT_COMMON_ISSUE)" > $(TARGET_DIR)/etc/issue
endef
SKELETON_INIT_COMMON_TARGET_FINALIZE_HOOKS += SKELETON_INIT_COMMON_SET_ISSUE
endif

# Root login: disabled ("*"), no password, a given hash ($1$, $5$, $6$...),
# or a clear-text password hashed with host-mkpasswd (its salt derived from
# the password, so that the image is reproducible).
ifeq ($(BR2_TARGET_ENABLE_ROOT_LOGIN),y)
ifneq ($(filter $$1$$% $$5$$% $$6$$%,$(SKELETON_INIT_COMMON_ROOT_PASSWD)),)
SKELETON_INIT_COMMON_ROOT_PASSWORD = '$(SKELETON_INIT_COMMON_ROOT_PASSWD)'
else ifneq ($(SKELETON_INIT_COMMON_ROOT_PASSWD),)
SKELETON_INIT_COMMON_ROOT_PASSWORD = "`$(HOST_DIR)/bin/mkpasswd -m $(subst -,,$(SKELETON_INIT_COMMON_PASSWD_METHOD)) \
	-S $$(printf %s '$(SKELETON_INIT_COMMON_ROOT_PASSWD)' | sha256sum | cut -c1-16) \
	'$(SKELETON_INIT_COMMON_ROOT_PASSWD)'`"
endif
else
SKELETON_INIT_COMMON_ROOT_PASSWORD = "*"
endif
define SKELETON_INIT_COMMON_SET_ROOT_PASSWD
	$(Q)sed -i -e s,^root:[^:]*:,root:$(SKELETON_INIT_COMMON_ROOT_PASSWORD):, $(TARGET_DIR)/etc/shadow
endef
SKELETON_INIT_COMMON_TARGET_FINALIZE_HOOKS += SKELETON_INIT_COMMON_SET_ROOT_PASSWD

ifeq ($(BR2_SYSTEM_BIN_SH_NONE),y)
define SKELETON_INIT_COMMON_SET_BIN_SH
	$(Q)rm -f $(TARGET_DIR)/bin/sh
endef
else
# /bin/sh in /etc/shells, or some login tools (dropbear) refuse it.
define SKELETON_INIT_COMMON_ADD_SH_TO_SHELLS
	$(Q)grep -qsE '^/bin/sh$$' $(TARGET_DIR)/etc/shells || echo "/bin/sh" >> $(TARGET_DIR)/etc/shells
endef
SKELETON_INIT_COMMON_TARGET_FINALIZE_HOOKS += SKELETON_INIT_COMMON_ADD_SH_TO_SHELLS
ifneq ($(SKELETON_INIT_COMMON_BIN_SH),)
define SKELETON_INIT_COMMON_SET_BIN_SH
	$(Q)ln -sf $(SKELETON_INIT_COMMON_BIN_SH) $(TARGET_DIR)/bin/sh
	$(Q)sed -i -e '/^root:/s,[^/]*$$,$(SKELETON_INIT_COMMON_BIN_SH),' $(TARGET_DIR)/etc/passwd
endef
endif
endif
SKELETON_INIT_COMMON_TARGET_FINALIZE_HOOKS += SKELETON_INIT_COMMON_SET_BIN_SH

$(eval $(generic-package))
