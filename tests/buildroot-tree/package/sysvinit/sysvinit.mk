################################################################################
#
# sysvinit
#
################################################################################

SYSVINIT_VERSION = 3.14
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
