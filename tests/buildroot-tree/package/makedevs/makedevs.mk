################################################################################
#
# makedevs
#
################################################################################

# No download: the source is in this directory.

MAKEDEVS_LICENSE = GPL-2.0

$(eval $(host-generic-package))
