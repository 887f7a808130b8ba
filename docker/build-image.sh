#!/bin/sh
# Builds the appengine image from an install tree: `make docker-image`
# puts `make install DESTDIR=CONTEXT/root PREFIX=/usr` in CONTEXT and runs
#
#   docker/build-image.sh CONTEXT
#
# IMAGE   the tag to build (default pvd-appengine:latest)
# BASE    the base image; by default debian:bookworm-slim when it is here or
#         can be pulled, else pvd-appengine-base:bookworm, made once from
#         Debian's archive by docker/make-base.sh and reused after.
set -eu
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-pvd-appengine:latest}
DEFAULT_BASE=debian:bookworm-slim
LOCAL_BASE=pvd-appengine-base:bookworm

die() {
	echo "build-image: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: docker/build-image.sh CONTEXT"
ctx=$1
[ -x "$ctx/root/usr/bin/pvd" ] || die "$ctx/root/usr/bin/pvd missing: run make docker-image"
command -v docker >/dev/null 2>&1 || die "no docker client on PATH (apt-get install docker.io)"
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
	die "no docker daemon answers (start one: dockerd --iptables=false &)"

have() { docker image inspect "$1" >/dev/null 2>&1; }

if [ -z "${BASE:-}" ]; then
	if have "$DEFAULT_BASE"; then
		BASE=$DEFAULT_BASE
	elif have "$LOCAL_BASE"; then
		BASE=$LOCAL_BASE
	elif docker pull -q "$DEFAULT_BASE" >/dev/null 2>&1; then
		BASE=$DEFAULT_BASE
	else
		echo "build-image: $DEFAULT_BASE cannot be pulled; making $LOCAL_BASE from Debian's archive"
		docker/make-base.sh "$LOCAL_BASE"
		BASE=$LOCAL_BASE
	fi
fi
have "$BASE" || docker pull -q "$BASE" >/dev/null ||
	die "base image $BASE is neither here nor pullable"

cp docker/install-runtime.sh docker/entrypoint.sh "$ctx/"
# The classic builder unless buildx is there: a client without buildx
# cannot use BuildKit.
if ! docker buildx version >/dev/null 2>&1; then
	DOCKER_BUILDKIT=0
	export DOCKER_BUILDKIT
fi
echo "build-image: $IMAGE on $BASE"
docker build --build-arg BASE="$BASE" -t "$IMAGE" -f docker/Dockerfile \
	"$ctx" >"$ctx/build.log" 2>&1 || {
	tail -n 30 "$ctx/build.log" >&2
	die "docker build failed (whole log: $ctx/build.log)"
}
echo "build-image: built $IMAGE ($(docker image inspect -f '{{.Size}}' "$IMAGE" |
	awk '{printf "%.0f MB", $1 / 1e6}'))"
