################################################################################
#
# openssh
#
################################################################################

OPENSSH_VERSION = 10.2p1
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
