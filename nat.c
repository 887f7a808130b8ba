// NAT for IPAM pools, with nftables through libnftables: the commands
// are built from validated names and printed addresses and handed to the
// library, which talks netlink to the kernel; no nft process is run.
#define MODULE_NAME "nat"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// libnftables.h defines _GNU_SOURCE (empty) itself; ours (-D, "1") makes
// that a redefinition, which warns where the header is not a system
// header (a cross build's sysroot). Every other header is in already.
#undef _GNU_SOURCE
#include <nftables/libnftables.h>

#include "log.h"
#include "nat.h"

#define FWD4 "/proc/sys/net/ipv4/ip_forward"
#define FWD6 "/proc/sys/net/ipv6/conf/all/forwarding"

struct pv_nat {
	struct nft_ctx *nft;
	char table[32]; // "pvd_<pid>"
	int restore4;	// we turned IPv4 forwarding on: off again at exit
	int restore6;
};

// Runs cmd; on failure copies libnftables' first error line into why.
// Returns 0 or -1.
static int run(struct nft_ctx *nft, const char *cmd, char *why, size_t n)
{
	const char *err;
	size_t len;

	if (nft_run_cmd_from_buffer(nft, cmd) == 0)
		return 0;
	err = nft_ctx_get_error_buffer(nft);
	len = err ? strcspn(err, "\n") : 0;
	snprintf(why, n, "%.*s", (int)len, len ? err : "nftables refused it");
	return -1;
}

// Reads a 0/1 sysctl; -1 when it cannot be read.
static int read_flag(const char *path)
{
	char c = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd == -1)
		return -1;
	r = read(fd, &c, 1);
	close(fd);
	return r == 1 ? c == '1' : -1;
}

static int write_flag(const char *path, int on)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r;

	if (fd == -1)
		return -1;
	r = write(fd, on ? "1\n" : "0\n", 2);
	close(fd);
	return r == 2 ? 0 : -1;
}

// Turns forwarding on at path (what: "IPv4"); returns 1 if we changed it.
static int forwarding_on(const char *path, const char *what)
{
	if (read_flag(path) == 1)
		return 0;
	if (write_flag(path, 1) == -1) {
		pv_log(WARN,
		       "%s forwarding: cannot turn it on (%s: %s); NAT "
		       "pools reach only the host",
		       what, path, strerror(errno));
		return 0;
	}
	pv_log(INFO,
	       "%s forwarding turned on for NAT pools (%s; off again "
	       "when pvd exits)",
	       what, path);
	return 1;
}

// 1 for a name we write into a command: an interface name of letters,
// digits, '.', '_', '-' (the parser's rules allow more than that).
static int safe_name(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return 0;
	return 1;
}

// Deletes the tables named PV_NAT_TABLE_PREFIX<pid> of pvds that are no
// longer alive, as a killed pvd leaves them.
static void remove_stale(struct nft_ctx *nft, int (*alive)(pid_t))
{
	char name[64], cmd[128], why[256];
	const char *out, *line;
	char *end;
	long pid;

	nft_ctx_buffer_output(nft);
	if (run(nft, "list tables inet", why, sizeof(why))) {
		nft_ctx_unbuffer_output(nft);
		return;
	}
	out = nft_ctx_get_output_buffer(nft);
	for (line = out; line && *line;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (sscanf(line, "table inet %63s", name) != 1 ||
		    strncmp(name, PV_NAT_TABLE_PREFIX,
			    strlen(PV_NAT_TABLE_PREFIX)))
			continue;
		errno = 0;
		pid = strtol(name + strlen(PV_NAT_TABLE_PREFIX), &end, 10);
		if (errno || *end || pid <= 0 || pid == getpid() ||
		    alive((pid_t)pid))
			continue;
		pv_log(WARN,
		       "removing nftables table inet %s left by pvd %ld, "
		       "which is gone",
		       name, pid);
		snprintf(cmd, sizeof(cmd), "delete table inet %s", name);
		if (run(nft, cmd, why, sizeof(why)))
			pv_log(WARN, "nftables: delete table inet %s: %s", name,
			       why);
	}
	nft_ctx_unbuffer_output(nft);
}

// Appends to *buf (cap bytes) the masquerade rule of pool; -1 if full.
static int add_rule(char *buf, size_t cap, const char *table,
		    const struct pv_ipam_pool *pool)
{
	char net[INET6_ADDRSTRLEN];
	const void *a;
	size_t len = strlen(buf);
	int n;

	a = pool->family == AF_INET
		    ? (const void *)&((const struct sockaddr_in *)&pool->net)
			      ->sin_addr
		    : (const void *)&((const struct sockaddr_in6 *)&pool->net)
			      ->sin6_addr;
	if (!inet_ntop(pool->family, a, net, sizeof(net)))
		return -1;
	n = snprintf(buf + len, cap - len,
		     "add rule inet %s postrouting %s saddr %s/%d oifname != "
		     "\"%s\" masquerade comment \"pool %s\"\n",
		     table, pool->family == AF_INET ? "ip" : "ip6", net,
		     pool->prefix, pool->bridge, pool->name);
	return n < 0 || (size_t)n >= cap - len ? -1 : 0;
}

struct pv_nat *pv_nat_new(struct pv_state *s, int (*alive)(pid_t))
{
	char cmds[16384], why[256];
	struct pv_ipam_pool *pool;
	struct pv_nat *n;
	int npools = 0, v6 = 0;
	size_t len;

	dl_list_for_each (pool, &s->pools, struct pv_ipam_pool, list) {
		if (!pool->nat)
			continue;
		if (!safe_name(pool->bridge) || !safe_name(pool->name)) {
			pv_log(WARN,
			       "pool %s: NAT left out: bridge name %s has "
			       "characters nftables commands do not take",
			       pool->name, pool->bridge);
			pool->nat = 0;
			continue;
		}
		npools++;
		v6 |= pool->family == AF_INET6;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		pv_log(ERROR, "nat: out of memory");
		return NULL;
	}
	n->nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!n->nft) {
		if (npools)
			pv_log(WARN, "NAT unavailable: libnftables could not "
				     "start; pools work without NAT");
		free(n);
		return NULL;
	}
	nft_ctx_buffer_error(n->nft);
	remove_stale(n->nft, alive);
	if (!npools)
		goto out_none;
	snprintf(n->table, sizeof(n->table), PV_NAT_TABLE_PREFIX "%d",
		 (int)getpid());
	// One transaction: the table appears whole or not at all.
	len = snprintf(cmds, sizeof(cmds),
		       "add table inet %s { comment \"pvd/%d: NAT of "
		       "its pools\"; }\n"
		       "flush table inet %s\n"
		       "add chain inet %s postrouting { type nat hook "
		       "postrouting priority srcnat; policy accept; }\n",
		       n->table, (int)getpid(), n->table, n->table);
	dl_list_for_each (pool, &s->pools, struct pv_ipam_pool, list) {
		if (pool->nat &&
		    (len >= sizeof(cmds) ||
		     add_rule(cmds, sizeof(cmds), n->table, pool))) {
			pv_log(WARN, "NAT unavailable: too many NAT pools for "
				     "one table; pools work without NAT");
			goto out_none;
		}
	}
	if (run(n->nft, cmds, why, sizeof(why))) {
		pv_log(WARN, "NAT unavailable (nf_tables: %s); %d NAT pool%s",
		       why, npools,
		       npools > 1 ? "s work without NAT"
				  : " works without NAT");
		goto out_none;
	}
	pv_log(INFO, "NAT: table inet %s masquerades %d pool%s", n->table,
	       npools, npools > 1 ? "s" : "");
	n->restore4 = forwarding_on(FWD4, "IPv4");
	if (v6)
		n->restore6 = forwarding_on(FWD6, "IPv6");
	return n;
out_none:
	nft_ctx_free(n->nft);
	free(n);
	return NULL;
}

void pv_nat_free(struct pv_nat *n)
{
	char cmd[64], why[256];

	if (!n)
		return;
	snprintf(cmd, sizeof(cmd), "delete table inet %s", n->table);
	if (run(n->nft, cmd, why, sizeof(why)))
		pv_log(WARN, "nftables: %s: %s", cmd, why);
	else
		pv_log(INFO, "NAT: table inet %s removed", n->table);
	if (n->restore4 && write_flag(FWD4, 0) == -1)
		pv_log(WARN, "%s: cannot turn forwarding off again: %s", FWD4,
		       strerror(errno));
	if (n->restore6 && write_flag(FWD6, 0) == -1)
		pv_log(WARN, "%s: cannot turn forwarding off again: %s", FWD6,
		       strerror(errno));
	nft_ctx_free(n->nft);
	free(n);
}
