################################################################################
#
# uboot-tools
#
################################################################################

UBOOT_TOOLS_VERSION = 2025.10
# Download, hash and build steps: filled in by later work.

$(eval $(host-generic-package))
