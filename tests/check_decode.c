// SPDX-License-Identifier: GPL-2.0-only
/* The argument decoders against hand-made guest memory: golden strings for every
 * decoder, pre/post/retry, truncation, pages not present, hostile input. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domtrace/decode.h"

/* ---- a fake guest: two regions of NPAGES pages; any page may be "not present" ---- */

#define PAGE 4096u
#define NPAGES 16
#define B64 0x7f0000000000ull /* a 64-bit process's region */
#define B32 0x08000000ull     /* a 32-bit process's region */

struct fmem {
	uint8_t mem[2][NPAGES * PAGE];
	bool absent[2][NPAGES];
	bool overread; /* misbehave: claim more bytes than asked */
	unsigned reads;
};

static struct fmem *fm;

static uint8_t *where(uint64_t va, int *ret_r, unsigned *ret_page)
{
	int r = va >= B64 ? 0 : 1;
	uint64_t base = r == 0 ? B64 : B32;

	if (va < base || va - base >= NPAGES * PAGE)
		return NULL;
	*ret_r = r;
	*ret_page = (unsigned)((va - base) / PAGE);
	return &fm->mem[r][va - base];
}

static ssize_t fread_guest(void *ctx, uint64_t va, void *buf, size_t len)
{
	size_t done = 0;

	(void)ctx;
	fm->reads++;
	if (fm->overread)
		return (ssize_t)len + 1;
	while (done < len) {
		int r;
		unsigned page;
		uint8_t *p = where(va + done, &r, &page);
		size_t chunk = PAGE - (size_t)((va + done) % PAGE);

		if (!p)
			return done ? (ssize_t)done : -EFAULT;
		if (fm->absent[r][page])
			break;
		if (chunk > len - done)
			chunk = len - done;
		memcpy((uint8_t *)buf + done, p, chunk);
		done += chunk;
	}
	return (ssize_t)done;
}

static const struct dt_guest_mem gmem = { .read = fread_guest, .ctx = NULL };

static void setup(void)
{
	fm = calloc(1, sizeof(*fm));
	ck_assert_ptr_nonnull(fm);
}

static void teardown(void)
{
	free(fm);
	fm = NULL;
}

static void put(uint64_t va, const void *p, size_t n)
{
	int r;
	unsigned page;
	uint8_t *d = where(va, &r, &page);

	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_nonnull(where(va + n - 1, &r, &page));
	memcpy(d, p, n);
}

static void put_str(uint64_t va, const char *s)
{
	put(va, s, strlen(s) + 1);
}

static void put_u32(uint64_t va, uint32_t v)
{
	put(va, &v, 4);
}

static void put_u64(uint64_t va, uint64_t v)
{
	put(va, &v, 8);
}

static void set_absent(uint64_t va, bool absent)
{
	int r;
	unsigned page;

	ck_assert_ptr_nonnull(where(va, &r, &page));
	fm->absent[r][page] = absent;
}

/* ---- running decoders ---- */

static const struct dt_funcdesc *func(const char *name, bool compat)
{
	size_t n, i;
	const struct dt_funcdesc *f = dt_catalog_funcs(&n);

	for (i = 0; i < n; i++)
		if (strcmp(f[i].name, name) == 0 &&
		    ((compat ? f[i].nr32 : f[i].nr64) >= 0 || !(f[i].flags & DT_FN_SYSCALL)))
			return &f[i];
	ck_abort_msg("no function %s", name);
	return NULL;
}

static unsigned last_mask;

static struct dt_event *pre_n(const char *name, bool compat, size_t arena, const uint64_t raw[6])
{
	const struct dt_funcdesc *fd = func(name, compat);
	struct dt_event *ev;
	size_t n;

	ck_assert_int_eq(dt_event_new(DT_EV_CALL, arena, &ev), 0);
	ev->compat = compat;
	ev->func_id = (int)(fd - dt_catalog_funcs(&n));
	ck_assert_int_eq(dt_decode_pre(ev, fd, raw, &gmem, &last_mask), 0);
	return ev;
}

#define PRE(name, compat, ...) pre_n(name, compat, DT_EVENT_ARENA, (const uint64_t[6]){ __VA_ARGS__ })

static int post(struct dt_event *ev, int64_t ret)
{
	ev->has_ret = true;
	ev->ret = ret;
	return dt_decode_post(ev, dt_catalog_get(ev->func_id), &gmem, NULL);
}

static const char *val(const struct dt_event *ev, const char *name)
{
	return dt_event_value_of(ev, name);
}

static void free_ev(struct dt_event *ev)
{
	dt_event_free(ev);
}

#define EQ(ev, name, want)                                                                   \
	do {                                                                                  \
		const char *got_ = val(ev, name);                                             \
		ck_assert_msg(got_ && strcmp(got_, want) == 0, "%s: got \"%s\" want \"%s\"",  \
			      name, got_ ? got_ : "(none)", want);                            \
	} while (0)
#define NONE(ev, name) ck_assert_msg(!val(ev, name), "%s present: %s", name, val(ev, name))

/* ---- tests ---- */

START_TEST(open_flags_and_modes)
{
	struct dt_event *ev;

	put_str(B64, "/etc/passwd");
	ev = PRE("openat", false, (uint64_t)-100, B64, 02000000, 0);
	ck_assert_int_eq(last_mask, 0);
	EQ(ev, "dfd", "AT_FDCWD");
	EQ(ev, "dfd:dfd", "AT_FDCWD");
	EQ(ev, "filename", "/etc/passwd");
	EQ(ev, "flags", "O_RDONLY|O_CLOEXEC");
	EQ(ev, "flags:flags", "O_RDONLY|O_CLOEXEC");
	EQ(ev, "mode", "000");
	ck_assert(!ev->args[1].truncated && !ev->args[1].pending);
	free_ev(ev);

	ev = PRE("open", false, B64, 0, 0);
	EQ(ev, "flags", "O_RDONLY");
	free_ev(ev);
	ev = PRE("open", false, B64, 01101, 0644);
	EQ(ev, "flags", "O_WRONLY|O_CREAT|O_TRUNC");
	EQ(ev, "mode:mode", "0644");
	free_ev(ev);
	ev = PRE("openat", false, 7, B64, 020200002 | 0x40000000, 0600);
	EQ(ev, "dfd", "7");
	EQ(ev, "flags", "O_RDWR|O_TMPFILE|0x40000000");
	free_ev(ev);
	ev = PRE("open", true, B32, 04010000 | 3, 0);
	EQ(ev, "flags", "O_ACCMODE|O_SYNC");
	free_ev(ev);

	ev = PRE("pipe2", false, B64, 02004000);
	EQ(ev, "flags", "O_NONBLOCK|O_CLOEXEC");
	ck_assert(ev->args[0].pending);
	put_u32(B64, 3);
	put_u32(B64 + 4, 4);
	post(ev, 0);
	EQ(ev, "fildes", "[3, 4]");
	ck_assert(!ev->args[0].pending);
	free_ev(ev);

	ev = PRE("mknod", false, B64, 020620, 0x0501);
	EQ(ev, "mode", "S_IFCHR|0620");
	free_ev(ev);
	ev = PRE("chmod", false, B64, 04755);
	EQ(ev, "mode", "S_ISUID|0755");
	free_ev(ev);
	ev = PRE("umask", false, 022);
	EQ(ev, "mask:mask", "022");
	free_ev(ev);
	ev = PRE("access", false, B64, 6);
	EQ(ev, "mode", "R_OK|W_OK");
	free_ev(ev);
	ev = PRE("faccessat2", false, (uint64_t)-100, B64, 0, 0x200);
	EQ(ev, "mode", "F_OK");
	EQ(ev, "flags", "AT_EACCESS");
	free_ev(ev);
	ev = PRE("unlinkat", false, 3, B64, 0x200);
	EQ(ev, "flag", "AT_REMOVEDIR");
	free_ev(ev);
	ev = PRE("lseek", false, 3, (uint64_t)-5, 2);
	EQ(ev, "offset", "-5");
	EQ(ev, "whence", "SEEK_END");
	free_ev(ev);
}
END_TEST

static void put_argv(uint64_t arr, uint64_t strs, const char *const *v, bool compat)
{
	size_t k, psize = compat ? 4 : 8;

	for (k = 0; v[k]; k++) {
		put_str(strs, v[k]);
		if (compat)
			put_u32(arr + k * psize, (uint32_t)strs);
		else
			put_u64(arr + k * psize, strs);
		strs += strlen(v[k]) + 1;
	}
	if (compat)
		put_u32(arr + k * psize, 0);
	else
		put_u64(arr + k * psize, 0);
}

START_TEST(execve_argv)
{
	static const char *const argv[] = { "/bin/sh", "-c", "echo \"hi\"\tthere", NULL };
	static const char *const envp[] = { "PATH=/bin", "HOME=/", NULL };
	struct dt_event *ev;
	int compat;

	for (compat = 0; compat <= 1; compat++) {
		uint64_t b = compat ? B32 : B64;

		put_str(b, "/bin/sh");
		put_argv(b + 0x100, b + 0x200, argv, compat);
		put_argv(b + 0x400, b + 0x500, envp, compat);
		ev = PRE("execve", compat, b, b + 0x100, b + 0x400);
		ck_assert_int_eq(last_mask, 0);
		EQ(ev, "filename", "/bin/sh");
		EQ(ev, "argv", "[\"/bin/sh\", \"-c\", \"echo \\\"hi\\\"\\tthere\"]");
		EQ(ev, "envp", "[\"PATH=/bin\", \"HOME=/\"]");
		EQ(ev, "regs:filename", "/bin/sh");
		EQ(ev, "filename:filename", "/bin/sh");
		EQ(ev, "regs:args", "/bin/sh -c echo \"hi\"\tthere");
		EQ(ev, "argv:argv", "/bin/sh -c echo \"hi\"\tthere");
		EQ(ev, "regs:env", "PATH=/bin HOME=/");
		EQ(ev, "envp:envp", "PATH=/bin HOME=/");
		ck_assert(!ev->args[1].truncated);
		free_ev(ev);
	}

	/* NULL argv and envp (Linux treats them as empty) */
	ev = PRE("execve", false, B64, 0, 0);
	EQ(ev, "argv", "NULL");
	EQ(ev, "regs:args", "NULL");
	free_ev(ev);
	/* empty array */
	put_u64(B64 + 0x100, 0);
	ev = PRE("execve", false, B64, B64 + 0x100, B64 + 0x100);
	EQ(ev, "argv", "[]");
	EQ(ev, "regs:args", "");
	free_ev(ev);
}
END_TEST

START_TEST(not_present_and_retry)
{
	static const char *const argv[] = { "/usr/bin/nc", "-e", NULL };
	uint64_t page5 = B64 + 5 * PAGE;
	struct dt_event *ev;
	char want[64];

	/* the filename page is not present: shown as such, bit 0, then retried */
	put_str(page5, "/usr/bin/nc");
	put_argv(B64 + 0x100, page5 + 0x40, argv, false);
	set_absent(page5, true);
	ev = PRE("execve", false, page5, B64 + 0x100, 0);
	ck_assert_int_eq(last_mask, 0x3);
	snprintf(want, sizeof(want), "<not present %#llx>", (unsigned long long)page5);
	EQ(ev, "filename", want);
	EQ(ev, "regs:filename", want);
	snprintf(want, sizeof(want), "[<not present %#llx>, <not present %#llx>]",
		 (unsigned long long)page5 + 0x40, (unsigned long long)page5 + 0x4c);
	EQ(ev, "argv", want);
	ck_assert_int_eq(dt_decode_retry_arg(ev, func("execve", false), 0, &gmem), -EAGAIN);
	set_absent(page5, false);
	ck_assert_int_eq(dt_decode_retry_arg(ev, func("execve", false), 0, &gmem), 0);
	ck_assert_int_eq(dt_decode_retry_arg(ev, func("execve", false), 1, &gmem), 0);
	ck_assert_int_eq(dt_decode_retry_arg(ev, func("execve", false), 9, &gmem), 0);
	EQ(ev, "filename", "/usr/bin/nc");
	EQ(ev, "regs:filename", "/usr/bin/nc");
	EQ(ev, "regs:args", "/usr/bin/nc -e");
	free_ev(ev);

	/* a string running from a present page onto an absent one */
	memset(&fm->mem[0][6 * PAGE - 8], 'a', 8);
	set_absent(B64 + 6 * PAGE, true);
	ev = PRE("open", false, B64 + 6 * PAGE - 8, 0, 0);
	ck_assert_int_eq(last_mask, 1);
	ck_assert_ptr_nonnull(strstr(val(ev, "filename"), "<not present"));
	free_ev(ev);

	/* the argv array itself runs onto an absent page before its NULL */
	put_str(B64, "x");
	put_u64(B64 + 8 * PAGE - 8, B64);
	set_absent(B64 + 8 * PAGE, true);
	ev = PRE("execve", false, B64, B64 + 8 * PAGE - 8, 0);
	ck_assert_int_eq(last_mask, 2);
	snprintf(want, sizeof(want), "[\"x\", <not present %#llx>]", (unsigned long long)B64 + 8 * PAGE);
	EQ(ev, "argv", want);
	free_ev(ev);

	/* unreadable (outside the guest's memory): said so, no retry bit */
	ev = PRE("open", false, 0x1000, 0, 0);
	ck_assert_int_eq(last_mask, 0);
	EQ(ev, "filename", "<unreadable 0x1000>");
	free_ev(ev);
	ev = PRE("open", false, 0, 0, 0);
	EQ(ev, "filename", "NULL");
	free_ev(ev);
}
END_TEST

START_TEST(hostile_strings_and_arrays)
{
	struct dt_event *ev;
	uint64_t k;
	const char *v;

	/* no NUL for more than DT_STR_MAX bytes: cut at DT_STR_MAX - 1, flagged */
	memset(&fm->mem[0][0], 'A', 3 * PAGE);
	ev = PRE("open", false, B64 + 100, 0, 0);
	ck_assert_int_eq(last_mask, 0);
	ck_assert_uint_eq(strlen(val(ev, "filename")), DT_STR_MAX - 1);
	ck_assert(ev->args[0].truncated);
	free_ev(ev);

	/* an argv of 1000 pointers to the same long string: bounded by count and bytes */
	memset(fm->mem[0], 0, sizeof(fm->mem[0]));
	memset(&fm->mem[0][0], 'B', 3000);
	for (k = 0; k < 1000; k++)
		put_u64(B64 + 2 * PAGE + k * 8, B64);
	fm->reads = 0;
	ev = PRE("execve", false, B64 + 3000, B64 + 2 * PAGE, B64 + 2 * PAGE);
	ck_assert(ev->args[1].truncated && ev->args[2].truncated);
	v = val(ev, "argv");
	ck_assert_uint_le(strlen(v), DT_ARGV_BYTES * 3 / 2);
	ck_assert_uint_le(strlen(val(ev, "regs:args")), DT_ARGV_BYTES + DT_ARGV_MAX);
	ck_assert_str_eq(v + strlen(v) - 1, "]");
	ck_assert_uint_lt(fm->reads, 50); /* the budget ends the walk early */
	ck_assert_uint_le(ev->arena_used, ev->arena_cap);
	free_ev(ev);

	/* many short elements: at most DT_ARGV_MAX, then "..." */
	put_str(B64, "s");
	for (k = 0; k < 1000; k++)
		put_u64(B64 + 2 * PAGE + k * 8, B64);
	ev = PRE("execve", false, B64, B64 + 2 * PAGE, 0);
	v = val(ev, "argv");
	ck_assert_ptr_nonnull(strstr(v, "\"s\", ...]"));
	ck_assert(ev->args[1].truncated);
	ck_assert_uint_eq(strlen(val(ev, "regs:args")), DT_ARGV_MAX * 2 - 1);
	free_ev(ev);

	/* a pointer array near the top of the address space */
	ev = PRE("execve", false, B64, 0xfffffffffffffff8ull, 0);
	ck_assert_ptr_nonnull(strstr(val(ev, "argv"), "<unreadable"));
	free_ev(ev);

	/* a backend claiming more bytes than asked is not trusted */
	fm->overread = true;
	ev = PRE("open", false, B64, 0, 0);
	EQ(ev, "filename", "<unreadable 0x7f0000000000>");
	free_ev(ev);
	fm->overread = false;

	/* an arena too small: values cut, flagged, nothing overflows */
	ev = pre_n("open", false, 24, (const uint64_t[6]){ B64 + 2 * PAGE + 8, 0, 0 });
	ck_assert(ev->args[0].truncated || ev->args[1].truncated || ev->args[2].truncated);
	ck_assert_uint_le(ev->arena_used, ev->arena_cap);
	free_ev(ev);
}
END_TEST

START_TEST(buffers)
{
	struct dt_event *ev;
	char want[64];

	put(B64, "hi\n\x01\"", 5);
	ev = PRE("write", false, 1, B64, 5);
	EQ(ev, "buf", "\"hi\\n\\x01\\\"\"");
	free_ev(ev);

	ev = PRE("read", false, 3, B64 + 0x100, 100);
	ck_assert(ev->args[1].pending);
	NONE(ev, "buf");
	put(B64 + 0x100, "hello", 5);
	post(ev, 5);
	EQ(ev, "buf", "\"hello\"");
	ck_assert(!ev->args[1].pending && !ev->args[1].truncated);
	free_ev(ev);

	ev = PRE("read", false, 3, B64 + 0x100, 100);
	post(ev, -EAGAIN);
	EQ(ev, "buf", "0x7f0000000100");
	free_ev(ev);

	memset(&fm->mem[0][0x200], 'z', 100);
	ev = PRE("read", false, 3, B64 + 0x200, 100);
	post(ev, 100);
	snprintf(want, sizeof(want), "\"%.32s\"...", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");
	EQ(ev, "buf", want);
	ck_assert(ev->args[1].truncated);
	free_ev(ev);

	/* a huge count reads only what is shown */
	fm->reads = 0;
	ev = PRE("write", false, 1, B64, 0xffffffffffffull);
	ck_assert_uint_eq(fm->reads, 1);
	ck_assert(ev->args[1].truncated);
	free_ev(ev);
}
END_TEST

static void put_sin(uint64_t va, const uint8_t ip[4], uint16_t port)
{
	uint8_t b[16] = { 2, 0, (uint8_t)(port >> 8), (uint8_t)port, ip[0], ip[1], ip[2], ip[3] };

	put(va, b, sizeof(b));
}

static const char *sockaddr_text(const void *bytes, size_t n, uint64_t addrlen)
{
	static char out[256];
	struct dt_event *ev;

	put(B64 + 0x800, bytes, n);
	ev = PRE("connect", false, 3, B64 + 0x800, addrlen);
	snprintf(out, sizeof(out), "%s", val(ev, "uservaddr"));
	free_ev(ev);
	return out;
}

START_TEST(sockaddrs)
{
	static const uint8_t ip[4] = { 1, 2, 3, 4 };
	uint8_t in6[28] = { 10, 0, 0, 22, 0, 0, 0, 0 };
	uint8_t un[110] = { 1, 0 };
	uint8_t nl[12] = { 16, 0, 0, 0, 0x39, 0x30, 0, 0, 1, 0, 0, 0 };
	uint8_t ll[20] = { 17, 0, 0x08, 0x00, 2, 0, 0, 0 };
	uint8_t odd[16] = { 99, 0 };
	uint8_t can[16] = { 29, 0 };
	struct dt_event *ev;

	put_sin(B64 + 0x800, ip, 80);
	ev = PRE("connect", false, 3, B64 + 0x800, 16);
	EQ(ev, "uservaddr", "AF_INET 1.2.3.4:80");
	EQ(ev, "uservaddr:addr", "AF_INET 1.2.3.4:80");
	EQ(ev, "addr:addr", "AF_INET 1.2.3.4:80");
	EQ(ev, "call:call", "connect");
	EQ(ev, "args:args", "fd=3, uservaddr=AF_INET 1.2.3.4:80, addrlen=16");
	free_ev(ev);

	ck_assert_str_eq(sockaddr_text("\x02\x00\x00\x50", 4, 8), "AF_INET <addrlen 8 too short>");
	ck_assert_str_eq(sockaddr_text("\x02", 1, 1), "<addrlen 1 too short>");
	ck_assert_str_eq(sockaddr_text("\x02\x00", 2, (uint64_t)-1), "0x7f0000000800 <addrlen unknown>");
	/* a huge length: only sizeof(sockaddr_storage) is read */
	fm->reads = 0;
	put_sin(B64 + 0x800, ip, 443);
	ck_assert_str_eq(sockaddr_text("\x02\x00\x01\xbb", 4, 0x7fffffff), "AF_INET 1.2.3.4:443");
	in6[23] = 1;
	ck_assert_str_eq(sockaddr_text(in6, 24, 24), "AF_INET6 [::1]:22");
	in6[24] = 2;
	in6[4] = 0x12;
	ck_assert_str_eq(sockaddr_text(in6, 28, 28), "AF_INET6 [::1%2]:22 flowinfo=0x12000000");
	ck_assert_str_eq(sockaddr_text(in6, 28, 20), "AF_INET6 <addrlen 20 too short>");
	memcpy(un + 2, "/run/x.sock", 12);
	ck_assert_str_eq(sockaddr_text(un, 110, 110), "AF_UNIX \"/run/x.sock\"");
	memcpy(un + 2, "\0abs\0x", 6);
	ck_assert_str_eq(sockaddr_text(un, 8, 8), "AF_UNIX @\"abs\\x00x\"");
	ck_assert_str_eq(sockaddr_text(un, 2, 2), "AF_UNIX (unnamed)");
	memset(un + 2, 'p', 108); /* no NUL: cut at sun_path's size */
	ck_assert_uint_eq(strlen(sockaddr_text(un, 110, 110)), strlen("AF_UNIX \"\"") + 108);
	ck_assert_str_eq(sockaddr_text(nl, 12, 12), "AF_NETLINK pid=12345 groups=0x1");
	ck_assert_str_eq(sockaddr_text(ll, 20, 20), "AF_PACKET protocol=0x0800 ifindex=2");
	ck_assert_str_eq(sockaddr_text(odd, 16, 16), "family 99 (unknown, addrlen 16)");
	ck_assert_str_eq(sockaddr_text(can, 16, 16), "AF_CAN (not decoded, addrlen 16)");
	ck_assert_str_eq(sockaddr_text("\0\0", 2, 16), "AF_UNSPEC");
}
END_TEST

START_TEST(accept_post)
{
	static const uint8_t ip[4] = { 10, 0, 0, 7 };
	struct dt_event *ev;

	put_u32(B64 + 0x900, 16);
	ev = PRE("accept4", false, 3, B64 + 0x800, B64 + 0x900, 02000000);
	ck_assert(ev->args[1].pending);
	EQ(ev, "upeer_addrlen", "[16]");
	EQ(ev, "flags", "SOCK_CLOEXEC");
	EQ(ev, "call:call", "accept4");
	EQ(ev, "args:args", "fd=3, upeer_sockaddr=0x7f0000000800, upeer_addrlen=[16], flags=SOCK_CLOEXEC");
	NONE(ev, "addr:addr");
	put_sin(B64 + 0x800, ip, 5555);
	put_u32(B64 + 0x900, 16);
	post(ev, 5);
	EQ(ev, "upeer_sockaddr", "AF_INET 10.0.0.7:5555");
	EQ(ev, "addr:addr", "AF_INET 10.0.0.7:5555");
	EQ(ev, "len:len", "16");
	EQ(ev, "upeer_addrlen:len", "16");
	EQ(ev, "args:args",
	   "fd=3, upeer_sockaddr=AF_INET 10.0.0.7:5555, upeer_addrlen=[16], flags=SOCK_CLOEXEC");
	free_ev(ev);

	/* failed accept: the address was not written */
	ev = PRE("accept", false, 3, B64 + 0x800, B64 + 0x900);
	post(ev, -EAGAIN);
	EQ(ev, "upeer_sockaddr", "0x7f0000000800");
	free_ev(ev);

	ev = PRE("recvfrom", false, 3, B64 + 0x100, 64, 0x40, 0, 0);
	EQ(ev, "flags", "MSG_DONTWAIT");
	put(B64 + 0x100, "pong", 4);
	post(ev, 4);
	EQ(ev, "ubuf", "\"pong\"");
	EQ(ev, "addr", "NULL");
	free_ev(ev);
}
END_TEST

START_TEST(sockets_and_socketcall)
{
	static const uint8_t ip[4] = { 192, 168, 1, 1 };
	struct dt_event *ev;

	ev = PRE("socket", false, 2, 1 | 02000000, 6);
	EQ(ev, "family", "AF_INET");
	EQ(ev, "type", "SOCK_STREAM|SOCK_CLOEXEC");
	EQ(ev, "protocol", "IPPROTO_TCP");
	EQ(ev, "protocol:protocol", "IPPROTO_TCP");
	EQ(ev, "call:call", "socket");
	EQ(ev, "args:args", "family=AF_INET, type=SOCK_STREAM|SOCK_CLOEXEC, protocol=IPPROTO_TCP");
	free_ev(ev);
	ev = PRE("socket", false, 16, 3, 0);
	EQ(ev, "protocol", "NETLINK_ROUTE");
	free_ev(ev);
	ev = PRE("socket", false, 17, 3, 0x0300);
	EQ(ev, "protocol", "htons(ETH_P_ALL)");
	free_ev(ev);
	ev = PRE("socket", false, 77, 0x99, 12345);
	EQ(ev, "family", "77");
	EQ(ev, "type", "0x9|0x90");
	EQ(ev, "protocol", "12345");
	free_ev(ev);

	/* socketcall(SYS_CONNECT, [3, &sin, 16]) decodes like connect */
	put_sin(B32 + 0x800, ip, 22);
	put_u32(B32 + 0x100, 3);
	put_u32(B32 + 0x104, (uint32_t)B32 + 0x800);
	put_u32(B32 + 0x108, 16);
	ev = PRE("socketcall", true, 3, B32 + 0x100);
	ck_assert_int_eq(last_mask, 0);
	EQ(ev, "call", "SYS_CONNECT");
	EQ(ev, "call:call", "connect");
	EQ(ev, "args", "[3, AF_INET 192.168.1.1:22, 16]");
	EQ(ev, "args:args", "fd=3, uservaddr=AF_INET 192.168.1.1:22, addrlen=16");
	EQ(ev, "addr:addr", "AF_INET 192.168.1.1:22");
	EQ(ev, "uservaddr:addr", "AF_INET 192.168.1.1:22");
	free_ev(ev);

	/* socketcall(SYS_ACCEPT, ...): the address after the call */
	put_u32(B32 + 0x100, 4);
	put_u32(B32 + 0x108, (uint32_t)B32 + 0x900);
	put_u32(B32 + 0x900, 16);
	ev = PRE("socketcall", true, 5, B32 + 0x100);
	EQ(ev, "call:call", "accept");
	EQ(ev, "args", "[4, 0x8000800, [16]]");
	NONE(ev, "addr:addr");
	post(ev, 6);
	EQ(ev, "args", "[4, AF_INET 192.168.1.1:22, [16]]");
	EQ(ev, "addr:addr", "AF_INET 192.168.1.1:22");
	EQ(ev, "len:len", "16");
	free_ev(ev);

	/* socketcall(SYS_SOCKET, [2, 2, 17]) and SYS_SEND (sendto without the address) */
	put_u32(B32 + 0x100, 2);
	put_u32(B32 + 0x104, 2);
	put_u32(B32 + 0x108, 17);
	ev = PRE("socketcall", true, 1, B32 + 0x100);
	EQ(ev, "args", "[AF_INET, SOCK_DGRAM, IPPROTO_UDP]");
	EQ(ev, "family:family", "AF_INET");
	free_ev(ev);
	put(B32 + 0x200, "GET /", 5);
	put_u32(B32 + 0x100, 4);
	put_u32(B32 + 0x104, (uint32_t)B32 + 0x200);
	put_u32(B32 + 0x108, 5);
	put_u32(B32 + 0x10c, 0x4000);
	ev = PRE("socketcall", true, 9, B32 + 0x100);
	EQ(ev, "call:call", "send");
	EQ(ev, "args", "[4, \"GET /\", 5, MSG_NOSIGNAL]");
	free_ev(ev);

	/* unknown call, unreadable or absent args */
	ev = PRE("socketcall", true, 99, B32 + 0x100);
	EQ(ev, "call", "99");
	EQ(ev, "call:call", "unknown");
	EQ(ev, "args", "0x8000100");
	free_ev(ev);
	ev = PRE("socketcall", true, 3, 0x10);
	EQ(ev, "args", "<unreadable 0x10>");
	free_ev(ev);
	set_absent(B32 + 0x100, true);
	ev = PRE("socketcall", true, 3, B32 + 0x100);
	ck_assert_int_eq(last_mask, 2);
	EQ(ev, "args", "<not present 0x8000100>");
	free_ev(ev);
	set_absent(B32 + 0x100, false);
	/* a socketcall whose sockaddr is on an absent page reports bit 1 */
	put_u32(B32 + 0x100, 3);
	put_u32(B32 + 0x104, (uint32_t)B32 + 3 * PAGE);
	put_u32(B32 + 0x108, 16);
	set_absent(B32 + 3 * PAGE, true);
	ev = PRE("socketcall", true, 3, B32 + 0x100);
	ck_assert_int_eq(last_mask, 2);
	free_ev(ev);

	ck_assert_str_eq(dt_sockcall_name(3), "connect");
	ck_assert_str_eq(dt_sockcall_name(20), "sendmmsg");
	ck_assert_ptr_null(dt_sockcall_name(0));
	ck_assert_ptr_null(dt_sockcall_name(21));
	ck_assert_ptr_null(dt_sockcall_name(-1));
}
END_TEST

START_TEST(exit_and_wait)
{
	struct dt_event *ev;

	ev = PRE("exit_group", false, 3);
	EQ(ev, "error_code", "3");
	EQ(ev, "error_code:cause", "exit");
	EQ(ev, "error_code:status", "3");
	EQ(ev, "error_code:signal", "");
	free_ev(ev);
	ev = PRE("exit", false, (uint64_t)-1);
	EQ(ev, "error_code", "-1");
	EQ(ev, "error_code:status", "255");
	free_ev(ev);

	ev = PRE("do_exit", false, 0x8b);
	EQ(ev, "code", "0x8b");
	EQ(ev, "code:cause", "signal");
	EQ(ev, "code:signal", "SIGSEGV");
	EQ(ev, "code:core", "1");
	EQ(ev, "code:status", "");
	free_ev(ev);
	ev = PRE("do_exit", false, 0x100);
	EQ(ev, "code:cause", "exit");
	EQ(ev, "code:status", "1");
	EQ(ev, "code:signal", "");
	free_ev(ev);
	ev = PRE("do_exit", false, 0x9);
	EQ(ev, "code:signal", "SIGKILL");
	EQ(ev, "code:core", "0");
	free_ev(ev);
	ev = PRE("do_exit", false, 0x7f);
	EQ(ev, "code:cause", "unknown");
	free_ev(ev);

	ev = PRE("wait4", false, (uint64_t)-1, B64 + 0x10, 1, 0);
	EQ(ev, "upid", "-1");
	EQ(ev, "options", "WNOHANG");
	ck_assert(ev->args[1].pending);
	NONE(ev, "status:cause");
	put_u32(B64 + 0x10, 0x0900);
	post(ev, 1234);
	EQ(ev, "stat_addr", "[{WIFEXITED(s) && WEXITSTATUS(s) == 9}]");
	EQ(ev, "status:cause", "exit");
	EQ(ev, "status:code", "9");
	EQ(ev, "stat_addr:cause", "exit");
	EQ(ev, "status:signal", "");
	free_ev(ev);

	put_u32(B64 + 0x10, 0x8b);
	ev = PRE("wait4", false, 77, B64 + 0x10, 0x40000000 | 2, 0);
	EQ(ev, "options", "WUNTRACED|__WALL");
	post(ev, 77);
	EQ(ev, "stat_addr", "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}]");
	EQ(ev, "status:cause", "signal");
	EQ(ev, "status:signal", "SIGSEGV");
	EQ(ev, "status:core", "1");
	free_ev(ev);

	put_u32(B32 + 0x10, 0x137f);
	ev = PRE("waitpid", true, 5, B32 + 0x10, 0);
	post(ev, 5);
	EQ(ev, "stat_addr", "[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}]");
	EQ(ev, "status:cause", "stopped");
	EQ(ev, "status:signal", "SIGSTOP");
	free_ev(ev);
	put_u32(B32 + 0x10, 0xffff);
	ev = PRE("waitpid", true, 5, B32 + 0x10, 8);
	post(ev, 5);
	EQ(ev, "status:cause", "continued");
	free_ev(ev);

	ev = PRE("wait4", false, (uint64_t)-1, B64 + 0x10, 1, 0);
	post(ev, 0); /* WNOHANG, nothing to reap */
	EQ(ev, "status:cause", "nostatus");
	EQ(ev, "stat_addr", "0x7f0000000010");
	free_ev(ev);
	ev = PRE("wait4", false, (uint64_t)-1, 0, 0, 0);
	post(ev, 44);
	EQ(ev, "status:cause", "nostatus");
	EQ(ev, "stat_addr", "NULL");
	free_ev(ev);
	ev = PRE("wait4", false, (uint64_t)-1, B64 + 0x10, 0, 0);
	post(ev, -ECHILD);
	EQ(ev, "status:cause", "nostatus");
	free_ev(ev);
}
END_TEST

START_TEST(signals_and_kill)
{
	struct dt_event *ev;
	uint64_t set;

	ev = PRE("kill", false, (uint64_t)-1234, 15);
	EQ(ev, "pid", "-1234");
	EQ(ev, "pid:pid", "process group 1234");
	EQ(ev, "sig", "SIGTERM");
	EQ(ev, "sig:sig", "SIGTERM");
	free_ev(ev);
	ev = PRE("kill", false, (uint64_t)-1, 0);
	EQ(ev, "pid:pid", "all processes");
	EQ(ev, "sig", "0");
	free_ev(ev);
	ev = PRE("kill", false, 0, 77);
	EQ(ev, "pid:pid", "own process group");
	EQ(ev, "sig", "77");
	free_ev(ev);
	ev = PRE("kill", true, 4321, 34);
	EQ(ev, "pid:pid", "process 4321");
	EQ(ev, "sig", "SIGRT_2");
	free_ev(ev);

	set = (1ull << 1) | (1ull << 14);
	put_u64(B64 + 0x20, set);
	ev = PRE("rt_sigprocmask", false, 0, B64 + 0x20, B64 + 0x30, 8);
	EQ(ev, "nset", "[INT TERM]");
	EQ(ev, "nset:nset", "[INT TERM]");
	ck_assert(ev->args[2].pending);
	put_u64(B64 + 0x30, ~(1ull << 8));
	post(ev, 0);
	EQ(ev, "oset", "~[KILL]");
	free_ev(ev);
	put_u64(B64 + 0x20, 0);
	ev = PRE("rt_sigprocmask", false, 0, B64 + 0x20, 0, 8);
	EQ(ev, "nset", "[]");
	post(ev, 0);
	EQ(ev, "oset", "NULL");
	free_ev(ev);

	ck_assert_str_eq(dt_signal_name(SIGSEGV), "SIGSEGV");
	ck_assert_str_eq(dt_signal_name(SIGCHLD), "SIGCHLD");
	ck_assert_str_eq(dt_signal_name(32), "SIGRTMIN");
	ck_assert_str_eq(dt_signal_name(64), "SIGRT_32");
	ck_assert_ptr_null(dt_signal_name(0));
	ck_assert_ptr_null(dt_signal_name(65));
	ck_assert_ptr_null(dt_signal_name(-9));
	{
		int s;

		for (s = 1; s < 32; s++) /* glibc calls 29 POLL, the kernel IO */
			ck_assert_msg(s == 29 || strcmp(dt_signal_name(s) + 3, sigabbrev_np(s)) == 0, "%d: %s vs %s",
				      s, dt_signal_name(s), sigabbrev_np(s));
	}
}
END_TEST

START_TEST(commands_and_flags)
{
	struct dt_event *ev;

	ev = PRE("fcntl", false, 3, 3, 0);
	EQ(ev, "cmd", "F_GETFL"); /* the ancestor's bitwise match said F_GETFD|F_SETFD */
	EQ(ev, "cmd:cmd", "F_GETFL");
	free_ev(ev);
	ev = PRE("fcntl", false, 3, 1030, 0);
	EQ(ev, "cmd", "F_DUPFD_CLOEXEC");
	free_ev(ev);
	ev = PRE("fcntl", false, 3, 12, 0);
	EQ(ev, "cmd", "0xc");
	free_ev(ev);
	ev = PRE("fcntl64", true, 3, 12, 0);
	EQ(ev, "cmd", "F_GETLK64");
	free_ev(ev);

	ev = PRE("ioctl", false, 1, 0x5401, 0);
	EQ(ev, "cmd", "TCGETS");
	free_ev(ev);
	ev = PRE("ioctl", false, 1, 0x5413, 0);
	EQ(ev, "cmd:cmd", "TIOCGWINSZ");
	free_ev(ev);
	ev = PRE("ioctl", false, 1, 0x541B, 0);
	EQ(ev, "cmd", "FIONREAD");
	free_ev(ev);
	ev = PRE("ioctl", false, 1, 0x80086601, 0);
	EQ(ev, "cmd", "FS_IOC_GETFLAGS");
	free_ev(ev);
	ev = PRE("ioctl", false, 1, 0xc0105500, 0);
	EQ(ev, "cmd", "_IOC(_IOC_READ|_IOC_WRITE, 0x55, 0, 0x10)");
	free_ev(ev);
	ev = PRE("ioctl", false, 1, 0x1234, 0);
	EQ(ev, "cmd", "_IOC(_IOC_NONE, 0x12, 0x34, 0)");
	free_ev(ev);

	ev = PRE("mmap", false, 0, 4096, 3, 0x22, (uint64_t)-1, 0);
	EQ(ev, "addr", "NULL");
	EQ(ev, "len", "4096");
	EQ(ev, "prot", "PROT_READ|PROT_WRITE");
	EQ(ev, "flags", "MAP_PRIVATE|MAP_ANONYMOUS");
	EQ(ev, "fd", "-1");
	free_ev(ev);
	ev = PRE("mmap", false, 0x7f0000001000ull, 1 << 21, 0, 0x40022 | (21u << 26), 3, 0);
	EQ(ev, "addr", "0x7f0000001000");
	EQ(ev, "prot", "PROT_NONE");
	EQ(ev, "flags", "MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|21<<MAP_HUGE_SHIFT");
	free_ev(ev);
	ev = PRE("mmap2", true, 0, 4096, 5, 1, 3, 0);
	EQ(ev, "prot", "PROT_READ|PROT_EXEC");
	EQ(ev, "flags", "MAP_SHARED");
	free_ev(ev);

	ev = PRE("clone", false, 0x1200011, 0, 0, 0, 0);
	EQ(ev, "clone_flags", "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD");
	free_ev(ev);
	ev = PRE("clone", false, 0x3d0f00, 0x7f0000002000ull, 0, 0, 0);
	EQ(ev, "clone_flags",
	   "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|"
	   "CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID");
	EQ(ev, "newsp", "0x7f0000002000");
	free_ev(ev);
	ev = PRE("unshare", false, 0x20000000 | 0x80);
	EQ(ev, "unshare_flags", "CLONE_NEWPID|CLONE_NEWTIME");
	free_ev(ev);
	{
		uint64_t ca[8] = { 0x100 | 0x4000, 0, 0, 0, 17, 0x7f0000003000ull, 0x1000, 0 };

		put(B64 + 0x40, ca, sizeof(ca));
		ev = PRE("clone3", false, B64 + 0x40, 88);
		EQ(ev, "uargs",
		   "{flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7f0000003000, stack_size=0x1000}");
		EQ(ev, "uargs:flags", "CLONE_VM|CLONE_VFORK");
		free_ev(ev);
	}
}
END_TEST

START_TEST(time_and_compat_layouts)
{
	struct dt_event *ev;
	int64_t ts[2] = { 1, 500000000 };
	int32_t ts32[2] = { 2, 7 };

	put(B64 + 0x50, ts, sizeof(ts));
	ev = PRE("nanosleep", false, B64 + 0x50, 0);
	EQ(ev, "rqtp", "{tv_sec=1, tv_nsec=500000000}");
	post(ev, 0);
	EQ(ev, "rmtp", "NULL");
	free_ev(ev);

	put(B32 + 0x50, ts32, sizeof(ts32));
	ev = PRE("nanosleep", true, B32 + 0x50, B32 + 0x60);
	EQ(ev, "rqtp", "{tv_sec=2, tv_nsec=7}");
	put(B32 + 0x60, ts32, sizeof(ts32));
	post(ev, 0);
	EQ(ev, "rmtp", "{tv_sec=2, tv_nsec=7}");
	free_ev(ev);

	put(B32 + 0x70, ts, sizeof(ts));
	ev = PRE("clock_nanosleep_time64", true, 1, 0, B32 + 0x70, 0);
	EQ(ev, "rqtp", "{tv_sec=1, tv_nsec=500000000}");
	free_ev(ev);

	/* compat: pointers and longs are 32 bits, whatever the upper register half holds */
	ev = PRE("lseek", true, 3, 0xffffffff00000010ull, 0);
	EQ(ev, "offset", "16");
	free_ev(ev);
	ev = PRE("brk", true, 0xdead000008001000ull);
	EQ(ev, "brk", "0x8001000");
	free_ev(ev);
	ev = PRE("brk", false, 0xdead000008001000ull);
	EQ(ev, "brk", "0xdead000008001000");
	free_ev(ev);
	ev = PRE("getpid", false, 0);
	ck_assert_int_eq(ev->nargs, 0);
	free_ev(ev);
}
END_TEST

START_TEST(errno_names)
{
#define E(x) { x, #x }
	static const struct {
		int e;
		const char *name;
	} all[] = {
		E(EPERM), E(ENOENT), E(ESRCH), E(EINTR), E(EIO), E(ENXIO), E(E2BIG), E(ENOEXEC),
		E(EBADF), E(ECHILD), E(EAGAIN), E(ENOMEM), E(EACCES), E(EFAULT), E(EBUSY),
		E(EEXIST), E(EXDEV), E(ENODEV), E(ENOTDIR), E(EISDIR), E(EINVAL), E(ENFILE),
		E(EMFILE), E(ENOTTY), E(ENOSPC), E(EPIPE), E(ERANGE), E(ENOSYS), E(ENOTEMPTY),
		E(ELOOP), E(ENODATA), E(EOVERFLOW), E(ENOTSOCK), E(EOPNOTSUPP), E(EADDRINUSE),
		E(ECONNRESET), E(ETIMEDOUT), E(ECONNREFUSED), E(EINPROGRESS), E(EHOSTUNREACH),
		E(ECANCELED), E(EHWPOISON),
	};
	size_t k;
	int e;

	for (k = 0; k < sizeof(all) / sizeof(all[0]); k++) {
		ck_assert_str_eq(dt_errno_name(all[k].e), all[k].name);
		ck_assert_str_eq(dt_errno_name(-all[k].e), all[k].name);
	}
	/* every name the table has is the host's name for that number */
	for (e = 1; e < 134; e++)
		if (dt_errno_name(e) && e != EWOULDBLOCK && e != EDEADLOCK)
			ck_assert_msg(strcmp(dt_errno_name(e), strerrorname_np(e)) == 0, "%d: %s vs %s",
				      e, dt_errno_name(e), strerrorname_np(e));
	ck_assert_str_eq(dt_errno_name(512), "ERESTARTSYS");
	ck_assert_str_eq(dt_errno_name(-516), "ERESTART_RESTARTBLOCK");
	ck_assert_ptr_null(dt_errno_name(0));
	ck_assert_ptr_null(dt_errno_name(41));
	ck_assert_ptr_null(dt_errno_name(9999));
	ck_assert_ptr_null(dt_errno_name(-2147483647 - 1));
}
END_TEST

/* Every function, with arguments pointing at readable zeroed memory, at ints, at
 * absent pages and at garbage: no crash, arena respected, and every decoding name the
 * decoders produce is one dt_catalog_has_argname accepts. */
START_TEST(whole_catalogue_consistent)
{
	static const uint64_t patterns[][6] = {
		{ B64, B64 + 8, 16, B64 + 0x100, 8, B64 + 0x200 },
		{ 0, 0, 0, 0, 0, 0 },
		{ ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull },
		{ B64 + 9 * PAGE, B64 + 9 * PAGE, 100, B64 + 9 * PAGE, 3, 2 },
		{ 3, 1, 2, 0x80000000, 0x7fffffff, 17 },
	};
	size_t n, i, p;
	const struct dt_funcdesc *f = dt_catalog_funcs(&n);

	set_absent(B64 + 9 * PAGE, true);
	memset(fm->mem[1], 0x41, sizeof(fm->mem[1]));
	for (i = 0; i < n; i++) {
		for (p = 0; p < sizeof(patterns) / sizeof(patterns[0]); p++) {
			int compat;

			for (compat = 0; compat <= 1; compat++) {
				struct dt_event *ev;
				unsigned k;
				uint64_t raw[6];

				ck_assert_int_eq(dt_event_new(DT_EV_CALL, DT_EVENT_ARENA, &ev), 0);
				for (k = 0; k < 6; k++)
					raw[k] = compat && patterns[p][k] >= B64 ?
							 patterns[p][k] - B64 + B32 : patterns[p][k];
				ev->compat = compat;
				ev->func_id = (int)i;
				dt_decode_pre(ev, &f[i], raw, &gmem, NULL);
				ev->has_ret = true;
				ev->ret = p % 2 ? -EINVAL : 8;
				dt_decode_post(ev, &f[i], &gmem, NULL);
				ck_assert_uint_le(ev->arena_used, ev->arena_cap);
				ck_assert_int_eq(ev->nargs, f[i].nargs);
				for (k = 0; k < ev->nargs; k++)
					ck_assert_msg(ev->args[k].value || ev->args[k].pending,
						      "%s.%s not rendered", f[i].name, f[i].args[k].name);
				for (k = 0; k < ev->ndec; k++)
					ck_assert_msg(dt_catalog_has_argname((int)i, ev->dec[k].name),
						      "%s offers %s", f[i].name, ev->dec[k].name);
				dt_event_free(ev);
			}
		}
	}
}
END_TEST

static Suite *decode_suite(void)
{
	Suite *s = suite_create("decode");
	TCase *tc = tcase_create("decode");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, open_flags_and_modes);
	tcase_add_test(tc, execve_argv);
	tcase_add_test(tc, not_present_and_retry);
	tcase_add_test(tc, hostile_strings_and_arrays);
	tcase_add_test(tc, buffers);
	tcase_add_test(tc, sockaddrs);
	tcase_add_test(tc, accept_post);
	tcase_add_test(tc, sockets_and_socketcall);
	tcase_add_test(tc, exit_and_wait);
	tcase_add_test(tc, signals_and_kill);
	tcase_add_test(tc, commands_and_flags);
	tcase_add_test(tc, time_and_compat_layouts);
	tcase_add_test(tc, errno_names);
	tcase_add_test(tc, whole_catalogue_consistent);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(decode_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
