################################################################################
#
# dosfstools
#
################################################################################

DOSFSTOOLS_VERSION = 4.2
# Download, hash and build steps: filled in by later work.

$(eval $(host-generic-package))
