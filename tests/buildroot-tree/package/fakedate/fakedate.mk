################################################################################
#
# fakedate
#
################################################################################

# No download: the script is in this directory. With BR2_REPRODUCIBLE
# every package depends on host-fakedate.

HOST_FAKEDATE_LICENSE = GPL-2.0+

$(eval $(host-generic-package))
