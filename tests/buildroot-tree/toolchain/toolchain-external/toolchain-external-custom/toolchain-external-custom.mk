################################################################################
#
# toolchain-external-custom
#
################################################################################

# The user's own toolchain: a tarball from BR2_TOOLCHAIN_EXTERNAL_URL, or
# already installed at BR2_TOOLCHAIN_EXTERNAL_PATH (empty: found on PATH by
# its prefix), in which case nothing is downloaded. No version, as in
# Buildroot: its messages read ">>> toolchain-external-custom  Configuring".
TOOLCHAIN_EXTERNAL_CUSTOM_SITE = $(patsubst %/,%,$(dir $(call qstrip,$(BR2_TOOLCHAIN_EXTERNAL_URL))))
TOOLCHAIN_EXTERNAL_CUSTOM_SOURCE = $(notdir $(call qstrip,$(BR2_TOOLCHAIN_EXTERNAL_URL)))

ifeq ($(BR2_TOOLCHAIN_EXTERNAL_PREINSTALLED),y)
TOOLCHAIN_EXTERNAL_CUSTOM_SITE =
TOOLCHAIN_EXTERNAL_CUSTOM_SOURCE =
endif

ifeq ($(BR2_TOOLCHAIN_EXTERNAL_CUSTOM),y)
# A custom toolchain's hash cannot be known in advance.
BR_NO_CHECK_HASH_FOR += $(TOOLCHAIN_EXTERNAL_CUSTOM_SOURCE)
endif

TOOLCHAIN_EXTERNAL_CUSTOM_ADD_TOOLCHAIN_DEPENDENCY = NO
TOOLCHAIN_EXTERNAL_CUSTOM_INSTALL_STAGING = YES

# Buildroot's probes of an installed toolchain (toolchain/helpers.mk): they
# reject a toolchain that does not match the configuration, with Buildroot's
# messages. Only this toolchain is probed: the stand-in archives of the other
# external toolchains hold no compiler.
ifeq ($(BR2_TOOLCHAIN_EXTERNAL_PREINSTALLED),y)
define TOOLCHAIN_EXTERNAL_CUSTOM_CONFIGURE_CMDS
	$(Q)$(call toolchain-external-probe)
endef
endif

$(eval $(generic-package))
