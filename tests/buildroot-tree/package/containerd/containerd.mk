################################################################################
#
# containerd
#
################################################################################

CONTAINERD_VERSION = 2.0.7
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
