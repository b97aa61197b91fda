################################################################################
#
# readline
#
################################################################################

READLINE_VERSION = 8.3
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
