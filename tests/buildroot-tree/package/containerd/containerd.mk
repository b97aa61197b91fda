################################################################################
#
# containerd
#
################################################################################

CONTAINERD_VERSION = 2.0.7
CONTAINERD_SITE = https://sources.skiffbuild.invalid/containerd
CONTAINERD_LICENSE = Apache-2.0
CONTAINERD_LICENSE_FILES = LICENSE

# Go modules are vendored into the archive ("-go2" in its name).
CONTAINERD_DOWNLOAD_POST_PROCESS = go
CONTAINERD_DEPENDENCIES = host-go $(if $(BR2_PACKAGE_LIBSECCOMP),libseccomp)

$(eval $(generic-package))
