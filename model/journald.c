// SPDX-License-Identifier: GPL-2.0-only
/* journald's native protocol (journald.h): an entry in one datagram. */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "domtrace/journald.h"

/* One datagram at most; bigger entries would go through a memfd, which nothing we
 * send needs (a log line is capped at 2 KiB; an event line is a few KiB at most). */
#define JOURNALD_MAX (64u << 10)

bool dt_journald_stream_is(int fd)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(fd, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

int dt_journald_socket(void)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	return fd < 0 ? -errno : fd;
}

int dt_journald_send(int fd, const char *path, const struct dt_jfield *f, size_t n)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char *buf, *p;
	size_t len = 0, i;
	ssize_t r;

	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	memcpy(a.sun_path, path, strlen(path) + 1);
	for (i = 0; i < n; i++)
		len += strlen(f[i].key) + strlen(f[i].val) + 10;
	if (len > JOURNALD_MAX)
		return -EMSGSIZE;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	for (p = buf, i = 0; i < n; i++) {
		size_t kl = strlen(f[i].key), vl = strlen(f[i].val);

		memcpy(p, f[i].key, kl);
		p += kl;
		if (memchr(f[i].val, '\n', vl)) {
			uint64_t le = htole64((uint64_t)vl);

			*p++ = '\n';
			memcpy(p, &le, sizeof(le));
			p += sizeof(le);
		} else {
			*p++ = '=';
		}
		memcpy(p, f[i].val, vl);
		p += vl;
		*p++ = '\n';
	}
	r = sendto(fd, buf, (size_t)(p - buf), MSG_NOSIGNAL, (struct sockaddr *)&a, sizeof(a));
	free(buf);
	return r < 0 ? -errno : 0;
}
