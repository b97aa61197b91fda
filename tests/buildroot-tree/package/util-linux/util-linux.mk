################################################################################
#
# util-linux
#
################################################################################

UTIL_LINUX_VERSION = 2.41.4
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
$(eval $(host-generic-package))
