################################################################################
#
# kmod
#
################################################################################

KMOD_VERSION = 33
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
$(eval $(host-generic-package))
