################################################################################
#
# iptables
#
################################################################################

IPTABLES_VERSION = 1.8.11
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
