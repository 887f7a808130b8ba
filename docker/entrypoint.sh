#!/bin/sh
# The image's entrypoint: becomes pvd (exec, so pvd is PID 1: it gets
# docker stop's SIGTERM and reaps every orphan) on the state at
# /etc/pvd/state, with any arguments of `docker run IMAGE ...` added.
#
# The image holds nothing at /etc/pvd/state itself, so that docker can
# mount either a state file or a state directory there (docker refuses
# to mount a directory over a file and a file over a directory). Without
# a mount, /etc/pvd/state is made a link to the installed example.
set -eu
state=/etc/pvd/state
example=/usr/share/doc/pv-xconnect/examples/ingress-nginx/state.json

if [ ! -e "$state" ] && [ ! -L "$state" ]; then
	# A read-only root (docker run --read-only): the example directly.
	ln -s "$example" "$state" 2>/dev/null || state=$example
fi
exec /usr/bin/pvd --state "$state" "$@"
