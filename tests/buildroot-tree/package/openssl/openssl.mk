################################################################################
#
# openssl
#
################################################################################

# Virtual package: a provider package does the work.

$(eval $(virtual-package))
$(eval $(host-virtual-package))
