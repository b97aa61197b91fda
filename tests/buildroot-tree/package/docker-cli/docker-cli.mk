################################################################################
#
# docker-cli
#
################################################################################

DOCKER_CLI_VERSION = 28.3.3
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
