################################################################################
#
# docker-engine
#
################################################################################

DOCKER_ENGINE_VERSION = 28.3.3
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
