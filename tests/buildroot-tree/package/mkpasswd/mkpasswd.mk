################################################################################
#
# mkpasswd
#
################################################################################

# No download: the sources are in this directory.

MKPASSWD_LICENSE = GPL-2.0+

$(eval $(host-generic-package))
