################################################################################
#
# docker-engine
#
################################################################################

DOCKER_ENGINE_VERSION = 28.3.3
DOCKER_ENGINE_SITE = https://sources.skiffbuild.invalid/docker-engine
DOCKER_ENGINE_LICENSE = Apache-2.0
DOCKER_ENGINE_LICENSE_FILES = LICENSE

# Go modules are vendored into the archive ("-go2" in its name).
DOCKER_ENGINE_DOWNLOAD_POST_PROCESS = go
DOCKER_ENGINE_DEPENDENCIES = host-go $(if $(BR2_PACKAGE_LIBSECCOMP),libseccomp)

$(eval $(generic-package))
