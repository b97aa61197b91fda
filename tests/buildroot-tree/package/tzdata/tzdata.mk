################################################################################
#
# tzdata
#
################################################################################

TZDATA_VERSION = 2026b
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
