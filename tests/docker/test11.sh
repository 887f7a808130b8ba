#!/bin/bash
# Test 11 as Pantavisor's appengine runs it: pvd is PID 1 of a docker
# container (pvd-appengine:latest, `make docker-image`), and every check
# goes through `docker exec`. The graph shows "10.0.4.2:80" for
# nginx-http, the welcome page is served on the container's port 80, and
# `docker stop` ends pvd with exit code 0 within docker's grace, leaving
# nothing on the host. Then the same image runs a state of this test's own
# (busybox httpd on another pool and port), mounted at /etc/pvd/state as a
# directory and then as one file.
#
# Starts `dockerd --iptables=false` when no daemon answers (installing
# docker.io if it is missing) and stops only what it started. Containers
# run with --network none: all traffic stays on the container's loopback
# and the bridge pvd makes inside it.
#
#   KEEP_IMAGES=1   keep pvd-appengine:latest when this test made it (the
#                   debootstrapped base, pvd-appengine-base:bookworm, is
#                   always kept as a cache)
set -eu
user_build=${BUILD:-}
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd jq make

NAME=pva-test
IMAGE=pvd-appengine:latest
DEFAULT_BASE=debian:bookworm-slim
LOCAL_BASE=pvd-appengine-base:bookworm
LABEL=org.pantavisor.pvd-test
PRIV_FLAGS="--privileged"
# Where --privileged is refused (runc cannot give a capability the
# caller lacks, here CAP_SYS_RESOURCE): every other capability, no
# seccomp or AppArmor filter, and the host's cgroup tree writable so that
# liblxc can make the containers' cgroups below this container's own.
CAP_FLAGS="--cap-add ALL --cap-drop SYS_RESOURCE"
CAP_FLAGS="$CAP_FLAGS --security-opt seccomp=unconfined --security-opt apparmor=unconfined"
CAP_FLAGS="$CAP_FLAGS -v /sys/fs/cgroup:/sys/fs/cgroup:rw"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
t_all=$(now)

ours=""   # the container pva-test is this test's and still exists
cid=""    # its full id
# On a failure, what pvd and the containers said goes to $T/*.log, which
# lib.sh prints.
save_logs() {
	docker logs "$NAME" >"$T/docker-logs.log" 2>&1 || true
	docker exec "$NAME" sh -c 'for f in /run/pantavisor/pvd/*.log; do
		echo "== $f"; tail -n 20 "$f"; done' >"$T/inside.log" 2>&1 || true
}
fail() {
	[ -z "$ours" ] || save_logs
	echo "FAIL: $*" >&2
	exit 1
}

# 1 while pid runs (a zombie does not: it is our child that has exited).
alive() {
	[ -e "/proc/$1" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]
}

# ---- docker: client and daemon ------------------------------------------------
# docker.io from Debian's archive; no service may start from the
# package's scripts (a default dockerd would set the host's FORWARD policy
# to DROP and break other tests).
install_docker() {
	command -v apt-get >/dev/null 2>&1 || return 1
	echo "installing docker.io"
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		on_cleanup 'rm -f /usr/sbin/policy-rc.d'
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends docker.io >"$T/apt-docker.out" 2>&1
}
if ! command -v docker >/dev/null 2>&1; then
	install_docker || skip "no docker client, and docker.io cannot be installed: $(tail -n 1 "$T/apt-docker.out" 2>/dev/null)"
fi

daemon_up() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
dockerd_pid=""
cg_before=""
stop_dockerd() {
	local i=0 d
	kill -TERM "$dockerd_pid" 2>/dev/null || return 0
	# Hang guard only: dockerd stops in about a second.
	while alive "$dockerd_pid" && [ $i -lt 600 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	alive "$dockerd_pid" && kill -KILL "$dockerd_pid"
	wait "$dockerd_pid" 2>/dev/null || true
	# The cgroup parents ("docker") that this dockerd made, now empty.
	for d in /sys/fs/cgroup/docker /sys/fs/cgroup/*/docker; do
		[ -d "$d" ] || continue
		case " $cg_before " in *" $d "*) continue ;; esac
		rmdir "$d" 2>/dev/null || true
	done
}
if ! daemon_up; then
	if ! command -v dockerd >/dev/null 2>&1; then
		install_docker || skip "no docker daemon runs, and dockerd is missing and cannot be installed: $(tail -n 1 "$T/apt-docker.out" 2>/dev/null)"
	fi
	cg_before=$(echo /sys/fs/cgroup/docker /sys/fs/cgroup/*/docker)
	# No iptables rules, no forwarding, no docker0 on the host: builds
	# and containers get no network beyond their own.
	setsid dockerd --iptables=false --ip-forward=false --bridge=none \
		>"$T/dockerd.log" 2>&1 &
	dockerd_pid=$!
	on_cleanup stop_dockerd
	i=0
	until daemon_up; do
		alive "$dockerd_pid" ||
			skip "no docker daemon runs and dockerd cannot start: $(tail -n 1 "$T/dockerd.log")"
		i=$((i + 1))
		[ $i -lt 1200 ] || skip "no docker daemon runs and the dockerd started here did not answer in 60 s"
		sleep 0.05
	done
	echo "started dockerd (pid $dockerd_pid) --iptables=false --ip-forward=false --bridge=none"
else
	pid=$(pgrep -xo dockerd || true)
	if [ -n "$pid" ] && ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- '--iptables=false'; then
		echo "note: the running dockerd ($pid) was not started with --iptables=false"
	fi
fi

# ---- the name pva-test --------------------------------------------------------
if docker container inspect "$NAME" >/dev/null 2>&1; then
	if [ "$(docker container inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$NAME")" = test11 ]; then
		# Left by a run of this test that was killed.
		docker rm -f "$NAME" >/dev/null
	else
		skip "a container named $NAME exists and was not made by this test (docker rm -f $NAME if it is not needed)"
	fi
fi

# ---- the image ----------------------------------------------------------------
have() { docker image inspect "$1" >/dev/null 2>&1; }
base_made=""
# The local base is handed to make-base.sh also when it exists: it is
# made again if it lacks a runtime package.
if [ -z "${BASE:-}" ] && ! have "$DEFAULT_BASE"; then
	if have "$LOCAL_BASE" || ! docker pull -q "$DEFAULT_BASE" >/dev/null 2>&1; then
		if ! command -v debootstrap >/dev/null 2>&1 &&
			! DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
				--no-install-recommends debootstrap >"$T/apt-debootstrap.out" 2>&1; then
			skip "the base $DEFAULT_BASE cannot be pulled and debootstrap is missing (apt-get install debootstrap failed)"
		fi
		# Made once and kept: it is the cache that later runs reuse.
		t=$(now)
		"$TOP/docker/make-base.sh" "$LOCAL_BASE" >"$T/base.out" 2>&1 ||
			fail "$(tail -n 1 "$T/base.out")"
		base_made="base $(since "$t") (debootstrap, once), "
	fi
fi

img_before=$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
remove_image() {
	[ "${KEEP_IMAGES:-0}" = 1 ] && return 0
	if [ -z "$img_before" ]; then
		docker rmi "$IMAGE" >/dev/null 2>&1
	elif [ "$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null)" != "$img_before" ]; then
		# The image of before, untagged by the rebuild.
		docker rmi "$img_before" >/dev/null 2>&1
	fi
}
on_cleanup remove_image
t=$(now)
IMAGE=$IMAGE make -s -C "$TOP" ${user_build:+BUILD=$user_build} docker-image \
	>"$T/build.out" 2>&1 ||
	fail "make docker-image failed: $(tail -n 3 "$T/build.out")"
t_build=$(since "$t")

# ---- one container ------------------------------------------------------------
remove_container() {
	[ -n "$ours" ] || return 0
	docker rm -f "$NAME" >/dev/null 2>&1
	ours=""
}
on_cleanup remove_container
run_flags=""
# start [docker run arguments...]: runs pva-test from the image; tries
# --privileged first, then CAP_FLAGS, and keeps what worked.
start() {
	if [ -z "$run_flags" ]; then
		# shellcheck disable=SC2086
		if docker run --name "$NAME" -d --label "$LABEL=test11" \
			--network none $PRIV_FLAGS "$@" "$IMAGE" >"$T/run.out" 2>&1; then
			run_flags=$PRIV_FLAGS
		else
			docker rm -f "$NAME" >/dev/null 2>&1 || true
			why=$(grep -o 'unable to apply caps[^:]*' "$T/run.out" | head -1)
			echo "--privileged refused (${why:-$(tail -n 1 "$T/run.out")}); using: $CAP_FLAGS"
			run_flags=$CAP_FLAGS
		fi
	fi
	if [ "$run_flags" != "$PRIV_FLAGS" ]; then
		# shellcheck disable=SC2086
		docker run --name "$NAME" -d --label "$LABEL=test11" \
			--network none $run_flags "$@" "$IMAGE" >"$T/run.out" 2>&1 || {
			docker rm -f "$NAME" >/dev/null 2>&1 || true
			fail "docker run failed: $(grep -v WARNING "$T/run.out" | tail -n 1)"
		}
	fi
	ours=1
	cid=$(docker container inspect -f '{{.Id}}' "$NAME")
}

# stop BRIDGE: docker stop, pvd's exit code, what pvd said it removed,
# then docker rm and nothing of ours left on the host.
stop() {
	local t code links l
	t=$(now)
	docker stop -t 10 "$NAME" >/dev/null
	t_stop=$(since "$t")
	code=$(docker container inspect -f '{{.State.ExitCode}}' "$NAME")
	# docker sends SIGKILL after its 10 s grace: exit code 137.
	assert_eq "$code" 0 "pvd's exit code after docker stop"
	docker logs "$NAME" 2>&1 | grep -q "bridge $1 removed" ||
		fail "pvd did not say it removed bridge $1"
	docker logs "$NAME" 2>&1 | grep -q "pvd stopped cleanly" ||
		fail "pvd did not say it stopped cleanly"
	docker rm "$NAME" >/dev/null
	ours=""
	# pvd in the container is pid 1: its bridges carry the alias pvd/1
	# and its veths are named pvv00001_*. None may be on the host.
	links=$(grep -lx 'pvd/1' /sys/class/net/*/ifalias 2>/dev/null || true)
	for l in /sys/class/net/pvv00001_*; do
		if [ -e "$l" ]; then links="$links $l"; fi
	done
	[ -z "$links" ] || fail "left on the host: $links"
	[ -z "$(find /sys/fs/cgroup -path "*$cid*" -print -quit 2>/dev/null)" ] ||
		fail "cgroups of container $cid left: $(find /sys/fs/cgroup -path "*$cid*" | head -3)"
}

# graph_socket LINK: the socket of LINK in pv-ctrl's xconnect-graph, as
# JSON (quoted).
graph_socket() {
	docker exec "$NAME" sh -c 'echo -e "GET /xconnect-graph HTTP/1.0\r\n\r\n" | nc -U /run/pantavisor/pv/pv-ctrl' |
		tail -1 | jq --arg n "$1" '.[] | select(.name==$n) | .socket'
}
serves() { docker exec "$NAME" wget -q -T 2 -O - "$1" 2>/dev/null | grep -q -- "$2"; }
listens() {
	docker exec "$NAME" cat /proc/net/tcp |
		awk -v a="$1" '$2 == a && $4 == "0A" { f = 1 } END { exit !f }'
}

# ---- Test 11: the example state -----------------------------------------------
t=$(now)
start
wait_for 60 serves http://127.0.0.1:80/ 'Welcome to nginx!'
t_run=$(since "$t")
t=$(now)
assert_eq "$(docker exec "$NAME" cat /proc/1/comm)" pvd "PID 1 of the container"

# The acceptance check, verbatim.
got=$(docker exec pva-test sh -c 'echo -e "GET /xconnect-graph HTTP/1.0\r\n\r\n" | nc -U /run/pantavisor/pv/pv-ctrl' | tail -1 | jq '.[] | select(.name=="nginx-http") | .socket')
assert_eq "$got" '"10.0.4.2:80"' "xconnect-graph socket of nginx-http"
page=$(docker exec pva-test wget -q -O - http://127.0.0.1:80/ | head -5)
grep -q 'Welcome to nginx!' <<<"$page" || fail "port 80 does not serve the welcome page: $page"
# The bridge directly, and nginx's Unix socket through ingress port 8080.
serves http://10.0.4.2:80/ 'Welcome to nginx!' || fail "10.0.4.2:80 does not serve the welcome page"
wait_for 20 serves http://127.0.0.1:8080/ 'Welcome to nginx!'
listens 00000000:0050 || fail "/proc/net/tcp shows no listener on 0.0.0.0:80 (00000000:0050, 0A)"

# pvd as PID 1 reaps orphans: a child whose parent exits is handed to
# pid 1, and must not stay a zombie after it exits.
orphan=$(docker exec "$NAME" sh -c 'sleep 1 </dev/null >/dev/null 2>&1 & echo $!')
ppid=$(docker exec "$NAME" cut -d' ' -f4 "/proc/$orphan/stat" 2>/dev/null || echo gone)
[ "$ppid" = 1 ] || [ "$ppid" = gone ] || fail "the orphan $orphan went to $ppid, not to pid 1"
wait_for 20 docker exec "$NAME" test ! -e "/proc/$orphan"
# liblxc gave nginx cgroups of its own, below the docker container's.
[ -n "$(find /sys/fs/cgroup -path "*$cid*/lxc.payload.example-nginx-ingress" -print -quit 2>/dev/null)" ] ||
	fail "nginx has no cgroup of its own below the docker container's ($cid)"
# pvd's log reaches `docker logs`; the containers' logs are files.
docker logs "$NAME" 2>&1 | grep -q 'container example-nginx-ingress running' ||
	fail "pvd's log is not in docker logs"
docker exec "$NAME" test -f /run/pantavisor/pvd/example-nginx-ingress.log ||
	fail "no container log in /run/pantavisor/pvd"
t_checks=$(since "$t")

stop pvbr0
t_stop1=$t_stop

# ---- a state of our own, as a directory and as a file -------------------------
# busybox httpd on another pool, bridge and port: not the example.
marker="second state $$"
cat >"$T/state2.json" <<EOF
{
  "#spec": "pantavisor-service-system@1",
  "device.json": {
    "network": { "pools": { "lan": {
      "type": "bridge", "bridge": "pvtbr7",
      "subnet": "10.99.7.0/24", "gateway": "10.99.7.1", "nat": false } } },
    "ingress": [ { "name": "web-http", "type": "tcp",
                   "external": "0.0.0.0:9090",
                   "provider": "web", "service": "web-http" } ]
  },
  "web/run.json": {
    "#spec": "service-manifest-run@1", "name": "web", "type": "lxc",
    "exec": "mkdir -p /run/www && echo '$marker' > /run/www/index.html && exec busybox httpd -f -p 8000 -h /run/www",
    "network": { "mode": "pool", "pool": "lan" },
    "restart_policy": "always"
  },
  "web/services.json": {
    "#spec": "service-manifest-xconnect@1",
    "services": [ { "name": "web-http", "type": "tcp", "port": 8000 } ]
  }
}
EOF
mkdir -p "$T/state2/web"
for f in device.json web/run.json web/services.json; do
	jq --arg f "$f" '.[$f]' "$T/state2.json" >"$T/state2/$f"
done

t=$(now)
for src in "$T/state2" "$T/state2.json"; do
	start -v "$src:/etc/pvd/state:ro"
	wait_for 60 serves http://127.0.0.1:9090/ "$marker"
	assert_eq "$(graph_socket web-http)" '"10.99.7.2:8000"' "graph socket of web-http ($src)"
	serves http://10.99.7.2:8000/ "$marker" || fail "10.99.7.2:8000 does not serve ($src)"
	listens 00000000:2382 || fail "no listener on 0.0.0.0:9090 ($src)"
	if listens 00000000:0050; then fail "port 80 is served with the second state ($src)"; fi
	stop pvtbr7
done
t_state2=$(since "$t")

echo "test11 in docker ($run_flags): ${base_made}build $t_build, run until served $t_run, checks $t_checks, docker stop $t_stop1; second state as a directory and as a file $t_state2; all $(since "$t_all")"
exit 0
