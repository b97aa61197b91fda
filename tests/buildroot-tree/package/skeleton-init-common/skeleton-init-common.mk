################################################################################
#
# skeleton-init-common
#
################################################################################

# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
