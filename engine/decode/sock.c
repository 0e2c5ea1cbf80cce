// SPDX-License-Identifier: GPL-2.0-only
/* Socket addresses as text: "AF_INET 1.2.3.4:80", "AF_INET6 [::1]:22",
 * AF_UNIX "/path" or @"abstract", AF_NETLINK pid/groups, AF_PACKET; lengths are
 * checked against each family's struct. Pure functions over bytes already read. */
#include <arpa/inet.h>
#include <string.h>

#include "internal.h"

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool short_for(struct dt_sbuf *sb, const char *family, uint64_t len, uint64_t need)
{
	if (len >= need)
		return false;
	dt_sb_printf(sb, "%s <addrlen %llu too short>", family, (unsigned long long)len);
	return true;
}

void dt_sb_sockaddr(struct dt_sbuf *sb, const uint8_t *p, uint64_t len)
{
	size_t have = len < DT_SOCKADDR_MAX ? (size_t)len : DT_SOCKADDR_MAX;
	char text[INET6_ADDRSTRLEN];
	const char *name;
	uint16_t family;

	if (len < 2) {
		dt_sb_printf(sb, "<addrlen %llu too short>", (unsigned long long)len);
		return;
	}
	family = le16(p);
	name = dt_family_name(family);
	switch (family) {
	case 0: /* AF_UNSPEC: connect() dissolving a datagram association */
		dt_sb_puts(sb, "AF_UNSPEC");
		return;
	case 1: { /* AF_UNIX: sun_path[108] */
		size_t n = have - 2, end;

		if (n == 0) {
			dt_sb_puts(sb, "AF_UNIX (unnamed)");
			return;
		}
		if (n > 108)
			n = 108;
		if (p[2] == '\0') {
			dt_sb_puts(sb, "AF_UNIX @\"");
			dt_sb_escaped(sb, p + 3, n - 1);
		} else {
			const uint8_t *nul = memchr(p + 2, '\0', n);

			end = nul ? (size_t)(nul - (p + 2)) : n;
			dt_sb_puts(sb, "AF_UNIX \"");
			dt_sb_escaped(sb, p + 2, end);
		}
		dt_sb_putc(sb, '"');
		return;
	}
	case 2: /* AF_INET: port 2, address 4, zero 8 */
		if (short_for(sb, name, len, 16))
			return;
		dt_sb_printf(sb, "AF_INET %u.%u.%u.%u:%u", p[4], p[5], p[6], p[7], be16(p + 2));
		return;
	case 10: /* AF_INET6: port 2, flowinfo 4, address 16, scope_id 4 (RFC 2133: 24) */
		if (short_for(sb, name, len, 24))
			return;
		if (!inet_ntop(AF_INET6, p + 8, text, sizeof(text)))
			strcpy(text, "?");
		dt_sb_printf(sb, "AF_INET6 [%s", text);
		if (have >= 28 && le32(p + 24))
			dt_sb_printf(sb, "%%%u", le32(p + 24));
		dt_sb_printf(sb, "]:%u", be16(p + 2));
		if (le32(p + 4))
			dt_sb_printf(sb, " flowinfo=%#x", ntohl(le32(p + 4)));
		return;
	case 16: /* AF_NETLINK: pad 2, pid 4, groups 4 */
		if (short_for(sb, name, len, 12))
			return;
		dt_sb_printf(sb, "AF_NETLINK pid=%u groups=%#x", le32(p + 4), le32(p + 8));
		return;
	case 17: /* AF_PACKET (sockaddr_ll): protocol 2 (BE), ifindex 4, ... */
		if (short_for(sb, name, len, 20))
			return;
		dt_sb_printf(sb, "AF_PACKET protocol=%#06x ifindex=%d", be16(p + 2), (int32_t)le32(p + 4));
		return;
	default:
		if (name)
			dt_sb_printf(sb, "%s (not decoded, addrlen %llu)", name, (unsigned long long)len);
		else
			dt_sb_printf(sb, "family %u (unknown, addrlen %llu)", family,
				     (unsigned long long)len);
	}
}
