################################################################################
#
# e2fsprogs
#
################################################################################

E2FSPROGS_VERSION = 1.47.3
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
$(eval $(host-generic-package))
