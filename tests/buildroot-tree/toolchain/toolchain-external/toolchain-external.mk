################################################################################
#
# toolchain-external
#
################################################################################

# Virtual: the external toolchain package chosen in the menu
# (BR2_PACKAGE_PROVIDES_TOOLCHAIN_EXTERNAL).
TOOLCHAIN_EXTERNAL_ADD_TOOLCHAIN_DEPENDENCY = NO

$(eval $(virtual-package))

include $(sort $(wildcard toolchain/toolchain-external/*/*.mk))
