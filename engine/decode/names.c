// SPDX-License-Identifier: GPL-2.0-only
/*
 * Symbolic names of syscall argument values, as the x86 Linux ABI defines them (the
 * guest's ABI: written out here rather than taken from dom0's libc, whose values
 * may differ, e.g. O_LARGEFILE). Tables are static and ordered for readability.
 */
#include <errno.h>

#include "internal.h"

#define N(x) { x, #x }
#define NV(v, name) { v, name }
#define COUNT(a) (sizeof(a) / sizeof(a[0]))

/* ---- signals and errno ---- */

static const char *const signals[] = {
	[1] = "SIGHUP",	   [2] = "SIGINT",     [3] = "SIGQUIT",	  [4] = "SIGILL",
	[5] = "SIGTRAP",   [6] = "SIGABRT",    [7] = "SIGBUS",	  [8] = "SIGFPE",
	[9] = "SIGKILL",   [10] = "SIGUSR1",   [11] = "SIGSEGV",  [12] = "SIGUSR2",
	[13] = "SIGPIPE",  [14] = "SIGALRM",   [15] = "SIGTERM",  [16] = "SIGSTKFLT",
	[17] = "SIGCHLD",  [18] = "SIGCONT",   [19] = "SIGSTOP",  [20] = "SIGTSTP",
	[21] = "SIGTTIN",  [22] = "SIGTTOU",   [23] = "SIGURG",	  [24] = "SIGXCPU",
	[25] = "SIGXFSZ",  [26] = "SIGVTALRM", [27] = "SIGPROF",  [28] = "SIGWINCH",
	[29] = "SIGIO",	   [30] = "SIGPWR",    [31] = "SIGSYS",	  [32] = "SIGRTMIN",
	[33] = "SIGRT_1",  [34] = "SIGRT_2",   [35] = "SIGRT_3",  [36] = "SIGRT_4",
	[37] = "SIGRT_5",  [38] = "SIGRT_6",   [39] = "SIGRT_7",  [40] = "SIGRT_8",
	[41] = "SIGRT_9",  [42] = "SIGRT_10",  [43] = "SIGRT_11", [44] = "SIGRT_12",
	[45] = "SIGRT_13", [46] = "SIGRT_14",  [47] = "SIGRT_15", [48] = "SIGRT_16",
	[49] = "SIGRT_17", [50] = "SIGRT_18",  [51] = "SIGRT_19", [52] = "SIGRT_20",
	[53] = "SIGRT_21", [54] = "SIGRT_22",  [55] = "SIGRT_23", [56] = "SIGRT_24",
	[57] = "SIGRT_25", [58] = "SIGRT_26",  [59] = "SIGRT_27", [60] = "SIGRT_28",
	[61] = "SIGRT_29", [62] = "SIGRT_30",  [63] = "SIGRT_31", [64] = "SIGRT_32",
};

const char *dt_signal_name(int sig)
{
	if (sig <= 0 || (size_t)sig >= COUNT(signals))
		return NULL;
	return signals[sig];
}

/* Linux's errno values are one ABI on every architecture glibc and the kernel share
 * with x86, so <errno.h> gives the guest's numbers; kernel-internal codes by hand. */
static const char *const errnos[] = {
#define E(x) [x] = #x
	E(EPERM), E(ENOENT), E(ESRCH), E(EINTR), E(EIO), E(ENXIO), E(E2BIG), E(ENOEXEC),
	E(EBADF), E(ECHILD), E(EAGAIN), E(ENOMEM), E(EACCES), E(EFAULT), E(ENOTBLK), E(EBUSY),
	E(EEXIST), E(EXDEV), E(ENODEV), E(ENOTDIR), E(EISDIR), E(EINVAL), E(ENFILE), E(EMFILE),
	E(ENOTTY), E(ETXTBSY), E(EFBIG), E(ENOSPC), E(ESPIPE), E(EROFS), E(EMLINK), E(EPIPE),
	E(EDOM), E(ERANGE), E(EDEADLK), E(ENAMETOOLONG), E(ENOLCK), E(ENOSYS), E(ENOTEMPTY),
	E(ELOOP), E(ENOMSG), E(EIDRM), E(ECHRNG), E(EL2NSYNC), E(EL3HLT), E(EL3RST), E(ELNRNG),
	E(EUNATCH), E(ENOCSI), E(EL2HLT), E(EBADE), E(EBADR), E(EXFULL), E(ENOANO), E(EBADRQC),
	E(EBADSLT), E(EBFONT), E(ENOSTR), E(ENODATA), E(ETIME), E(ENOSR), E(ENONET), E(ENOPKG),
	E(EREMOTE), E(ENOLINK), E(EADV), E(ESRMNT), E(ECOMM), E(EPROTO), E(EMULTIHOP),
	E(EDOTDOT), E(EBADMSG), E(EOVERFLOW), E(ENOTUNIQ), E(EBADFD), E(EREMCHG), E(ELIBACC),
	E(ELIBBAD), E(ELIBSCN), E(ELIBMAX), E(ELIBEXEC), E(EILSEQ), E(ERESTART), E(ESTRPIPE),
	E(EUSERS), E(ENOTSOCK), E(EDESTADDRREQ), E(EMSGSIZE), E(EPROTOTYPE), E(ENOPROTOOPT),
	E(EPROTONOSUPPORT), E(ESOCKTNOSUPPORT), E(EOPNOTSUPP), E(EPFNOSUPPORT), E(EAFNOSUPPORT),
	E(EADDRINUSE), E(EADDRNOTAVAIL), E(ENETDOWN), E(ENETUNREACH), E(ENETRESET),
	E(ECONNABORTED), E(ECONNRESET), E(ENOBUFS), E(EISCONN), E(ENOTCONN), E(ESHUTDOWN),
	E(ETOOMANYREFS), E(ETIMEDOUT), E(ECONNREFUSED), E(EHOSTDOWN), E(EHOSTUNREACH),
	E(EALREADY), E(EINPROGRESS), E(ESTALE), E(EUCLEAN), E(ENOTNAM), E(ENAVAIL), E(EISNAM),
	E(EREMOTEIO), E(EDQUOT), E(ENOMEDIUM), E(EMEDIUMTYPE), E(ECANCELED), E(ENOKEY),
	E(EKEYEXPIRED), E(EKEYREVOKED), E(EKEYREJECTED), E(EOWNERDEAD), E(ENOTRECOVERABLE),
	E(ERFKILL), E(EHWPOISON),
#undef E
	/* include/linux/errno.h: never seen by user space, but a traced return may be one */
	[512] = "ERESTARTSYS", [513] = "ERESTARTNOINTR", [514] = "ERESTARTNOHAND",
	[515] = "ENOIOCTLCMD", [516] = "ERESTART_RESTARTBLOCK", [517] = "EPROBE_DEFER",
	[518] = "EOPENSTALE", [519] = "ENOPARAM", [521] = "EBADHANDLE", [522] = "ENOTSYNC",
	[523] = "EBADCOOKIE", [524] = "ENOTSUPP", [525] = "ETOOSMALL", [526] = "ESERVERFAULT",
	[527] = "EBADTYPE", [528] = "EJUKEBOX", [529] = "EIOCBQUEUED", [530] = "ERECALLCONFLICT",
};

const char *dt_errno_name(int err)
{
	if (err < 0)
		err = err == -2147483647 - 1 ? 0 : -err;
	if (err <= 0 || (size_t)err >= COUNT(errnos))
		return NULL;
	return errnos[err];
}

void dt_sb_signal(struct dt_sbuf *sb, int64_t sig)
{
	const char *name = sig > 0 && sig < 1000 ? dt_signal_name((int)sig) : NULL;

	if (name)
		dt_sb_puts(sb, name);
	else
		dt_sb_printf(sb, "%lld", (long long)sig);
}

/* strace's style: [HUP INT], or ~[...] listing what is not set when most is set */
void dt_sb_sigset(struct dt_sbuf *sb, uint64_t set)
{
	bool first = true, inverted = __builtin_popcountll(set) > 32;
	unsigned i;

	if (inverted) {
		set = ~set;
		dt_sb_putc(sb, '~');
	}
	dt_sb_putc(sb, '[');
	for (i = 0; i < 64; i++) {
		if (!(set & (1ull << i)))
			continue;
		if (!first)
			dt_sb_putc(sb, ' ');
		dt_sb_puts(sb, signals[i + 1] + 3);
		first = false;
	}
	dt_sb_putc(sb, ']');
}

/* ---- files ---- */

static const struct dt_flagname open_flags[] = {
	NV(020200000, "O_TMPFILE"), /* __O_TMPFILE | O_DIRECTORY */
	NV(04010000, "O_SYNC"),	    /* __O_SYNC | O_DSYNC */
	NV(0100, "O_CREAT"),	    NV(0200, "O_EXCL"),	       NV(0400, "O_NOCTTY"),
	NV(01000, "O_TRUNC"),	    NV(02000, "O_APPEND"),     NV(04000, "O_NONBLOCK"),
	NV(010000, "O_DSYNC"),	    NV(020000, "O_ASYNC"),     NV(040000, "O_DIRECT"),
	NV(0100000, "O_LARGEFILE"), NV(0200000, "O_DIRECTORY"), NV(0400000, "O_NOFOLLOW"),
	NV(01000000, "O_NOATIME"),  NV(02000000, "O_CLOEXEC"), NV(010000000, "O_PATH"),
};

void dt_sb_open_flags(struct dt_sbuf *sb, uint64_t v, bool with_accmode)
{
	static const char *const acc[] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE" };

	v &= 0xffffffffu;
	if (!with_accmode) {
		DT_SB_FLAGS(sb, open_flags, v, "0");
		return;
	}
	dt_sb_puts(sb, acc[v & 3]);
	if (v & ~3ull) {
		dt_sb_putc(sb, '|');
		DT_SB_FLAGS(sb, open_flags, v & ~3ull, "0");
	}
}

/* strace's style: file type and special bits by name, permissions in octal: 0644,
 * S_IFCHR|0620, S_ISUID|0755 */
void dt_sb_mode(struct dt_sbuf *sb, uint64_t v)
{
	static const char *const types[16] = {
		[001] = "S_IFIFO", [002] = "S_IFCHR", [004] = "S_IFDIR", [006] = "S_IFBLK",
		[010] = "S_IFREG", [012] = "S_IFLNK", [014] = "S_IFSOCK",
	};
	static const struct dt_flagname special[] = {
		NV(04000, "S_ISUID"), NV(02000, "S_ISGID"), NV(01000, "S_ISVTX"),
	};
	unsigned type = (unsigned)(v >> 12) & 017;
	size_t i;

	if (type) {
		if (types[type])
			dt_sb_printf(sb, "%s|", types[type]);
		else
			dt_sb_printf(sb, "%#o|", type << 12);
	}
	for (i = 0; i < COUNT(special); i++)
		if (v & special[i].val)
			dt_sb_printf(sb, "%s|", special[i].name);
	dt_sb_printf(sb, "%#03o", (unsigned)(v & 0777));
	if (v & ~0177777ull)
		dt_sb_printf(sb, "|%#llx", (unsigned long long)(v & ~0177777ull));
}

void dt_sb_at_flags(struct dt_sbuf *sb, uint64_t v, bool eaccess)
{
	static const struct dt_flagname removedir[] = {
		NV(0x100, "AT_SYMLINK_NOFOLLOW"), NV(0x200, "AT_REMOVEDIR"),
		NV(0x400, "AT_SYMLINK_FOLLOW"),	  NV(0x800, "AT_NO_AUTOMOUNT"),
		NV(0x1000, "AT_EMPTY_PATH"),	  NV(0x2000, "AT_STATX_FORCE_SYNC"),
		NV(0x4000, "AT_STATX_DONT_SYNC"), NV(0x8000, "AT_RECURSIVE"),
	};
	static const struct dt_flagname eacc[] = {
		NV(0x100, "AT_SYMLINK_NOFOLLOW"), NV(0x200, "AT_EACCESS"),
		NV(0x1000, "AT_EMPTY_PATH"),
	};

	v &= 0xffffffffu;
	if (eaccess)
		DT_SB_FLAGS(sb, eacc, v, "0");
	else
		DT_SB_FLAGS(sb, removedir, v, "0");
}

void dt_sb_fcntl_cmd(struct dt_sbuf *sb, uint64_t v, bool compat)
{
	static const struct dt_flagname cmds[] = {
		NV(0, "F_DUPFD"),	     NV(1, "F_GETFD"),	       NV(2, "F_SETFD"),
		NV(3, "F_GETFL"),	     NV(4, "F_SETFL"),	       NV(5, "F_GETLK"),
		NV(6, "F_SETLK"),	     NV(7, "F_SETLKW"),	       NV(8, "F_SETOWN"),
		NV(9, "F_GETOWN"),	     NV(10, "F_SETSIG"),       NV(11, "F_GETSIG"),
		NV(15, "F_SETOWN_EX"),	     NV(16, "F_GETOWN_EX"),    NV(17, "F_GETOWNER_UIDS"),
		NV(36, "F_OFD_GETLK"),	     NV(37, "F_OFD_SETLK"),    NV(38, "F_OFD_SETLKW"),
		NV(1024, "F_SETLEASE"),	     NV(1025, "F_GETLEASE"),   NV(1026, "F_NOTIFY"),
		NV(1029, "F_CANCELLK"),	     NV(1030, "F_DUPFD_CLOEXEC"), NV(1031, "F_SETPIPE_SZ"),
		NV(1032, "F_GETPIPE_SZ"),    NV(1033, "F_ADD_SEALS"),  NV(1034, "F_GET_SEALS"),
		NV(1035, "F_GET_RW_HINT"),   NV(1036, "F_SET_RW_HINT"), NV(1037, "F_GET_FILE_RW_HINT"),
		NV(1038, "F_SET_FILE_RW_HINT"), NV(1039, "F_DUPFD_QUERY"),
	};
	static const struct dt_flagname cmds32[] = {
		NV(12, "F_GETLK64"), NV(13, "F_SETLK64"), NV(14, "F_SETLKW64"),
	};
	uint32_t cmd = (uint32_t)v;
	size_t i;

	/* commands are values, not bits: exact match only */
	for (i = 0; i < COUNT(cmds); i++)
		if (cmds[i].val == cmd) {
			dt_sb_puts(sb, cmds[i].name);
			return;
		}
	for (i = 0; compat && i < COUNT(cmds32); i++)
		if (cmds32[i].val == cmd) {
			dt_sb_puts(sb, cmds32[i].name);
			return;
		}
	dt_sb_printf(sb, "%#x", cmd);
}

#define IOC(dir, type, nr, size) \
	((uint32_t)(((uint32_t)(dir) << 30) | ((size) << 16) | ((type) << 8) | (nr)))
#define IOR(type, nr, size) IOC(2u, type, nr, size)
#define IOW(type, nr, size) IOC(1u, type, nr, size)
#define IOWR(type, nr, size) IOC(3u, type, nr, size)

/* A reasonable set of common commands (terminals, sockets, files, block, loop, tun,
 * random, consoles, namespaces). Size-dependent ones in both layouts. */
static const struct dt_flagname ioctls[] = {
	NV(0x5401, "TCGETS"), NV(0x5402, "TCSETS"), NV(0x5403, "TCSETSW"),
	NV(0x5404, "TCSETSF"), NV(0x5405, "TCGETA"), NV(0x5406, "TCSETA"),
	NV(0x5407, "TCSETAW"), NV(0x5408, "TCSETAF"), NV(0x5409, "TCSBRK"),
	NV(0x540A, "TCXONC"), NV(0x540B, "TCFLSH"), NV(0x540C, "TIOCEXCL"),
	NV(0x540D, "TIOCNXCL"), NV(0x540E, "TIOCSCTTY"), NV(0x540F, "TIOCGPGRP"),
	NV(0x5410, "TIOCSPGRP"), NV(0x5411, "TIOCOUTQ"), NV(0x5412, "TIOCSTI"),
	NV(0x5413, "TIOCGWINSZ"), NV(0x5414, "TIOCSWINSZ"), NV(0x5415, "TIOCMGET"),
	NV(0x5416, "TIOCMBIS"), NV(0x5417, "TIOCMBIC"), NV(0x5418, "TIOCMSET"),
	NV(0x5419, "TIOCGSOFTCAR"), NV(0x541A, "TIOCSSOFTCAR"), NV(0x541B, "FIONREAD"),
	NV(0x541C, "TIOCLINUX"), NV(0x541D, "TIOCCONS"), NV(0x541E, "TIOCGSERIAL"),
	NV(0x541F, "TIOCSSERIAL"), NV(0x5420, "TIOCPKT"), NV(0x5421, "FIONBIO"),
	NV(0x5422, "TIOCNOTTY"), NV(0x5423, "TIOCSETD"), NV(0x5424, "TIOCGETD"),
	NV(0x5425, "TCSBRKP"), NV(0x5427, "TIOCSBRK"), NV(0x5428, "TIOCCBRK"),
	NV(0x5429, "TIOCGSID"), NV(IOR('T', 0x2A, 44), "TCGETS2"), NV(IOW('T', 0x2B, 44), "TCSETS2"),
	NV(IOW('T', 0x2C, 44), "TCSETSW2"), NV(IOW('T', 0x2D, 44), "TCSETSF2"),
	NV(IOR('T', 0x30, 4), "TIOCGPTN"), NV(IOW('T', 0x31, 4), "TIOCSPTLCK"),
	NV(IOR('T', 0x32, 4), "TIOCGDEV"), NV(IOW('T', 0x36, 4), "TIOCSIG"),
	NV(0x5437, "TIOCVHANGUP"), NV(IOR('T', 0x38, 4), "TIOCGPKT"),
	NV(IOR('T', 0x39, 4), "TIOCGPTLCK"), NV(IOR('T', 0x40, 4), "TIOCGEXCL"),
	NV(0x5441, "TIOCGPTPEER"), NV(0x5450, "FIONCLEX"), NV(0x5451, "FIOCLEX"),
	NV(0x5452, "FIOASYNC"), NV(0x5456, "TIOCGLCKTRMIOS"), NV(0x5457, "TIOCSLCKTRMIOS"),
	NV(0x545C, "TIOCMIWAIT"), NV(0x545D, "TIOCGICOUNT"), NV(0x5460, "FIOQSIZE"),
	NV(0x8901, "FIOSETOWN"), NV(0x8902, "SIOCSPGRP"), NV(0x8903, "FIOGETOWN"),
	NV(0x8904, "SIOCGPGRP"), NV(0x8905, "SIOCATMARK"), NV(0x8906, "SIOCGSTAMP"),
	NV(0x8907, "SIOCGSTAMPNS"), NV(0x890B, "SIOCADDRT"), NV(0x890C, "SIOCDELRT"),
	NV(0x8910, "SIOCGIFNAME"), NV(0x8911, "SIOCSIFLINK"), NV(0x8912, "SIOCGIFCONF"),
	NV(0x8913, "SIOCGIFFLAGS"), NV(0x8914, "SIOCSIFFLAGS"), NV(0x8915, "SIOCGIFADDR"),
	NV(0x8916, "SIOCSIFADDR"), NV(0x8917, "SIOCGIFDSTADDR"), NV(0x8918, "SIOCSIFDSTADDR"),
	NV(0x8919, "SIOCGIFBRDADDR"), NV(0x891A, "SIOCSIFBRDADDR"), NV(0x891B, "SIOCGIFNETMASK"),
	NV(0x891C, "SIOCSIFNETMASK"), NV(0x891D, "SIOCGIFMETRIC"), NV(0x891E, "SIOCSIFMETRIC"),
	NV(0x8921, "SIOCGIFMTU"), NV(0x8922, "SIOCSIFMTU"), NV(0x8923, "SIOCSIFNAME"),
	NV(0x8924, "SIOCSIFHWADDR"), NV(0x8927, "SIOCGIFHWADDR"), NV(0x8931, "SIOCADDMULTI"),
	NV(0x8932, "SIOCDELMULTI"), NV(0x8933, "SIOCGIFINDEX"), NV(0x8936, "SIOCDIFADDR"),
	NV(0x8938, "SIOCGIFCOUNT"), NV(0x8942, "SIOCGIFTXQLEN"), NV(0x8943, "SIOCSIFTXQLEN"),
	NV(0x8946, "SIOCETHTOOL"), NV(0x8947, "SIOCGMIIPHY"), NV(0x8948, "SIOCGMIIREG"),
	NV(0x8949, "SIOCSMIIREG"), NV(0x894B, "SIOCOUTQNSD"), NV(0x894C, "SIOCGSKNS"),
	NV(0x8953, "SIOCDARP"), NV(0x8954, "SIOCGARP"), NV(0x8955, "SIOCSARP"),
	NV(0x89A0, "SIOCBRADDBR"), NV(0x89A1, "SIOCBRDELBR"), NV(0x89A2, "SIOCBRADDIF"),
	NV(0x89A3, "SIOCBRDELIF"),
	NV(IOR('f', 1, 8), "FS_IOC_GETFLAGS"), NV(IOW('f', 2, 8), "FS_IOC_SETFLAGS"),
	NV(IOR('f', 1, 4), "FS_IOC32_GETFLAGS"), NV(IOW('f', 2, 4), "FS_IOC32_SETFLAGS"),
	NV(IOR('v', 1, 8), "FS_IOC_GETVERSION"), NV(IOR('v', 1, 4), "FS_IOC32_GETVERSION"),
	NV(IOWR('X', 119, 4), "FIFREEZE"), NV(IOWR('X', 120, 4), "FITHAW"),
	NV(IOWR('X', 121, 24), "FITRIM"), NV(IOW(0x94, 9, 4), "FICLONE"),
	NV(IOW(0x94, 13, 32), "FICLONERANGE"), NV(IOWR(0x94, 54, 24), "FIDEDUPERANGE"),
	NV(1, "FIBMAP"), NV(2, "FIGETBSZ"),
	NV(0x125D, "BLKROSET"), NV(0x125E, "BLKROGET"), NV(0x125F, "BLKRRPART"),
	NV(0x1260, "BLKGETSIZE"), NV(0x1261, "BLKFLSBUF"), NV(0x1268, "BLKSSZGET"),
	NV(IOR(0x12, 114, 8), "BLKGETSIZE64"), NV(0x1277, "BLKDISCARD"), NV(0x127B, "BLKPBSZGET"),
	NV(0x4C00, "LOOP_SET_FD"), NV(0x4C01, "LOOP_CLR_FD"), NV(0x4C02, "LOOP_SET_STATUS"),
	NV(0x4C03, "LOOP_GET_STATUS"), NV(0x4C04, "LOOP_SET_STATUS64"),
	NV(0x4C05, "LOOP_GET_STATUS64"), NV(0x4C06, "LOOP_CHANGE_FD"),
	NV(0x4C07, "LOOP_SET_CAPACITY"), NV(0x4C0A, "LOOP_CONFIGURE"), NV(0x4C80, "LOOP_CTL_ADD"),
	NV(0x4C81, "LOOP_CTL_REMOVE"), NV(0x4C82, "LOOP_CTL_GET_FREE"),
	NV(IOW('T', 202, 4), "TUNSETIFF"), NV(IOW('T', 203, 4), "TUNSETPERSIST"),
	NV(IOR('T', 210, 4), "TUNGETIFF"),
	NV(IOR('R', 0, 4), "RNDGETENTCNT"), NV(IOW('R', 1, 4), "RNDADDTOENTCNT"),
	NV(IOW('R', 3, 8), "RNDADDENTROPY"), NV(0x5204, "RNDZAPENTCNT"),
	NV(0x5206, "RNDCLEARPOOL"), NV(0x5207, "RNDRESEEDCRNG"),
	NV(0x4B33, "KDGKBTYPE"), NV(0x4B3A, "KDSETMODE"), NV(0x4B3B, "KDGETMODE"),
	NV(0x4B44, "KDGKBMODE"), NV(0x4B45, "KDSKBMODE"), NV(0x5600, "VT_OPENQRY"),
	NV(0x5601, "VT_GETMODE"), NV(0x5602, "VT_SETMODE"), NV(0x5603, "VT_GETSTATE"),
	NV(0x5606, "VT_ACTIVATE"), NV(0x5607, "VT_WAITACTIVE"), NV(0x5608, "VT_DISALLOCATE"),
	NV(0xB701, "NS_GET_USERNS"), NV(0xB702, "NS_GET_PARENT"),
};

void dt_sb_ioctl_cmd(struct dt_sbuf *sb, uint64_t v, bool compat)
{
	static const char *const dirs[] = { "_IOC_NONE", "_IOC_WRITE", "_IOC_READ",
					    "_IOC_READ|_IOC_WRITE" };
	uint32_t cmd = (uint32_t)v;
	size_t i;

	(void)compat; /* both layouts are in the table under distinct names */
	for (i = 0; i < COUNT(ioctls); i++)
		if (ioctls[i].val == cmd) {
			dt_sb_puts(sb, ioctls[i].name);
			return;
		}
	dt_sb_printf(sb, "_IOC(%s, %#x, %#x, %#x)", dirs[cmd >> 30], (cmd >> 8) & 0xff,
		     cmd & 0xff, (cmd >> 16) & 0x3fff);
}

void dt_sb_wait_options(struct dt_sbuf *sb, uint64_t v)
{
	static const struct dt_flagname opts[] = {
		NV(1, "WNOHANG"),	     NV(2, "WUNTRACED"),    NV(4, "WEXITED"),
		NV(8, "WCONTINUED"),	     NV(0x1000000, "WNOWAIT"), NV(0x20000000, "__WNOTHREAD"),
		NV(0x40000000, "__WALL"),    NV(0x80000000, "__WCLONE"),
	};

	DT_SB_FLAGS(sb, opts, v & 0xffffffffu, "0");
}

void dt_sb_whence(struct dt_sbuf *sb, uint64_t v)
{
	static const char *const names[] = { "SEEK_SET", "SEEK_CUR", "SEEK_END", "SEEK_DATA",
					     "SEEK_HOLE" };
	uint32_t w = (uint32_t)v;

	if (w < COUNT(names))
		dt_sb_puts(sb, names[w]);
	else
		dt_sb_printf(sb, "%u", w);
}

void dt_sb_access_mode(struct dt_sbuf *sb, uint64_t v)
{
	static const struct dt_flagname modes[] = {
		NV(4, "R_OK"), NV(2, "W_OK"), NV(1, "X_OK"),
	};

	DT_SB_FLAGS(sb, modes, v & 0xffffffffu, "F_OK");
}

/* ---- memory and processes ---- */

void dt_sb_mmap_prot(struct dt_sbuf *sb, uint64_t v)
{
	static const struct dt_flagname prot[] = {
		NV(1, "PROT_READ"), NV(2, "PROT_WRITE"), NV(4, "PROT_EXEC"), NV(8, "PROT_SEM"),
		NV(0x01000000, "PROT_GROWSDOWN"), NV(0x02000000, "PROT_GROWSUP"),
	};

	DT_SB_FLAGS(sb, prot, v, "PROT_NONE");
}

void dt_sb_mmap_flags(struct dt_sbuf *sb, uint64_t v)
{
	static const char *const types[16] = { [1] = "MAP_SHARED", [2] = "MAP_PRIVATE",
					       [3] = "MAP_SHARED_VALIDATE" };
	static const struct dt_flagname flags[] = {
		NV(0x10, "MAP_FIXED"),	       NV(0x20, "MAP_ANONYMOUS"),   NV(0x40, "MAP_32BIT"),
		NV(0x100, "MAP_GROWSDOWN"),    NV(0x800, "MAP_DENYWRITE"),  NV(0x1000, "MAP_EXECUTABLE"),
		NV(0x2000, "MAP_LOCKED"),      NV(0x4000, "MAP_NORESERVE"), NV(0x8000, "MAP_POPULATE"),
		NV(0x10000, "MAP_NONBLOCK"),   NV(0x20000, "MAP_STACK"),    NV(0x40000, "MAP_HUGETLB"),
		NV(0x80000, "MAP_SYNC"),       NV(0x100000, "MAP_FIXED_NOREPLACE"),
		NV(0x4000000, "MAP_UNINITIALIZED"),
	};
	unsigned type = (unsigned)(v & 0xf), huge = (unsigned)(v >> 26) & 0x3f;

	v &= 0xffffffffu;
	if (types[type])
		dt_sb_puts(sb, types[type]);
	else
		dt_sb_printf(sb, "%#x", type);
	v &= ~0xfull;
	if ((v & 0x40000) && huge) { /* MAP_HUGETLB: bits 26..31 are log2 of the page size */
		v &= ~(0x3full << 26);
	} else {
		huge = 0;
	}
	if (v) {
		dt_sb_putc(sb, '|');
		DT_SB_FLAGS(sb, flags, v, "0");
	}
	if (huge)
		dt_sb_printf(sb, "|%u<<MAP_HUGE_SHIFT", huge);
}

void dt_sb_clone_flags(struct dt_sbuf *sb, uint64_t v, bool exit_signal)
{
	static const struct dt_flagname flags[] = {
		NV(0x100, "CLONE_VM"),		   NV(0x200, "CLONE_FS"),
		NV(0x400, "CLONE_FILES"),	   NV(0x800, "CLONE_SIGHAND"),
		NV(0x1000, "CLONE_PIDFD"),	   NV(0x2000, "CLONE_PTRACE"),
		NV(0x4000, "CLONE_VFORK"),	   NV(0x8000, "CLONE_PARENT"),
		NV(0x10000, "CLONE_THREAD"),	   NV(0x20000, "CLONE_NEWNS"),
		NV(0x40000, "CLONE_SYSVSEM"),	   NV(0x80000, "CLONE_SETTLS"),
		NV(0x100000, "CLONE_PARENT_SETTID"), NV(0x200000, "CLONE_CHILD_CLEARTID"),
		NV(0x400000, "CLONE_DETACHED"),	   NV(0x800000, "CLONE_UNTRACED"),
		NV(0x1000000, "CLONE_CHILD_SETTID"), NV(0x2000000, "CLONE_NEWCGROUP"),
		NV(0x4000000, "CLONE_NEWUTS"),	   NV(0x8000000, "CLONE_NEWIPC"),
		NV(0x10000000, "CLONE_NEWUSER"),   NV(0x20000000, "CLONE_NEWPID"),
		NV(0x40000000, "CLONE_NEWNET"),	   NV(0x80000000, "CLONE_IO"),
		NV(0x100000000ull, "CLONE_CLEAR_SIGHAND"), NV(0x200000000ull, "CLONE_INTO_CGROUP"),
		NV(0x80, "CLONE_NEWTIME"),
	};
	unsigned sig = exit_signal ? (unsigned)(v & 0xff) : 0;

	if (exit_signal)
		v &= ~0xffull;
	if (v)
		DT_SB_FLAGS(sb, flags, v, "0");
	if (sig) {
		if (v)
			dt_sb_putc(sb, '|');
		dt_sb_signal(sb, sig);
	}
	if (!v && !sig)
		dt_sb_putc(sb, '0');
}

/* ---- sockets ---- */

static const char *const families[] = {
	"AF_UNSPEC", "AF_UNIX",	     "AF_INET",	   "AF_AX25",	    "AF_IPX",	  "AF_APPLETALK",
	"AF_NETROM", "AF_BRIDGE",    "AF_ATMPVC",  "AF_X25",	    "AF_INET6",	  "AF_ROSE",
	"AF_DECnet", "AF_NETBEUI",   "AF_SECURITY", "AF_KEY",	    "AF_NETLINK", "AF_PACKET",
	"AF_ASH",    "AF_ECONET",    "AF_ATMSVC",  "AF_RDS",	    "AF_SNA",	  "AF_IRDA",
	"AF_PPPOX",  "AF_WANPIPE",   "AF_LLC",	   "AF_IB",	    "AF_MPLS",	  "AF_CAN",
	"AF_TIPC",   "AF_BLUETOOTH", "AF_IUCV",	   "AF_RXRPC",	    "AF_ISDN",	  "AF_PHONET",
	"AF_IEEE802154", "AF_CAIF",  "AF_ALG",	   "AF_NFC",	    "AF_VSOCK",	  "AF_KCM",
	"AF_QIPCRTR", "AF_SMC",	     "AF_XDP",	   "AF_MCTP",
};

const char *dt_family_name(int64_t family)
{
	if (family < 0 || (uint64_t)family >= COUNT(families))
		return NULL;
	return families[family];
}

void dt_sb_sock_family(struct dt_sbuf *sb, int64_t v)
{
	const char *name = dt_family_name((int32_t)v);

	if (name)
		dt_sb_puts(sb, name);
	else
		dt_sb_printf(sb, "%d", (int32_t)v);
}

void dt_sb_sock_type(struct dt_sbuf *sb, uint64_t v, bool flags_only)
{
	static const char *const types[16] = {
		[1] = "SOCK_STREAM", [2] = "SOCK_DGRAM",     [3] = "SOCK_RAW",
		[4] = "SOCK_RDM",    [5] = "SOCK_SEQPACKET", [6] = "SOCK_DCCP",
		[10] = "SOCK_PACKET",
	};
	static const struct dt_flagname flags[] = {
		NV(02000000, "SOCK_CLOEXEC"), NV(04000, "SOCK_NONBLOCK"),
	};
	uint32_t t = (uint32_t)v;

	if (flags_only) {
		DT_SB_FLAGS(sb, flags, t, "0");
		return;
	}
	if (types[t & 0xf])
		dt_sb_puts(sb, types[t & 0xf]);
	else
		dt_sb_printf(sb, "%#x", t & 0xf);
	if (t & ~0xfu) {
		dt_sb_putc(sb, '|');
		DT_SB_FLAGS(sb, flags, t & ~0xfu, "0");
	}
}

void dt_sb_sock_proto(struct dt_sbuf *sb, int64_t family, int64_t proto)
{
	static const struct dt_flagname ip[] = {
		NV(0, "IPPROTO_IP"),	   NV(1, "IPPROTO_ICMP"),    NV(2, "IPPROTO_IGMP"),
		NV(4, "IPPROTO_IPIP"),	   NV(6, "IPPROTO_TCP"),     NV(8, "IPPROTO_EGP"),
		NV(12, "IPPROTO_PUP"),	   NV(17, "IPPROTO_UDP"),    NV(22, "IPPROTO_IDP"),
		NV(29, "IPPROTO_TP"),	   NV(33, "IPPROTO_DCCP"),   NV(41, "IPPROTO_IPV6"),
		NV(46, "IPPROTO_RSVP"),	   NV(47, "IPPROTO_GRE"),    NV(50, "IPPROTO_ESP"),
		NV(51, "IPPROTO_AH"),	   NV(58, "IPPROTO_ICMPV6"), NV(92, "IPPROTO_MTP"),
		NV(94, "IPPROTO_BEETPH"),  NV(98, "IPPROTO_ENCAP"),  NV(103, "IPPROTO_PIM"),
		NV(108, "IPPROTO_COMP"),   NV(115, "IPPROTO_L2TP"),  NV(132, "IPPROTO_SCTP"),
		NV(136, "IPPROTO_UDPLITE"), NV(137, "IPPROTO_MPLS"), NV(143, "IPPROTO_ETHERNET"),
		NV(255, "IPPROTO_RAW"),	   NV(262, "IPPROTO_MPTCP"),
	};
	static const char *const netlink[] = {
		"NETLINK_ROUTE",     "NETLINK_UNUSED",	    "NETLINK_USERSOCK", "NETLINK_FIREWALL",
		"NETLINK_SOCK_DIAG", "NETLINK_NFLOG",	    "NETLINK_XFRM",	"NETLINK_SELINUX",
		"NETLINK_ISCSI",     "NETLINK_AUDIT",	    "NETLINK_FIB_LOOKUP", "NETLINK_CONNECTOR",
		"NETLINK_NETFILTER", "NETLINK_IP6_FW",	    "NETLINK_DNRTMSG",	"NETLINK_KOBJECT_UEVENT",
		"NETLINK_GENERIC",   NULL,		    "NETLINK_SCSITRANSPORT", "NETLINK_ECRYPTFS",
		"NETLINK_RDMA",	     "NETLINK_CRYPTO",	    "NETLINK_SMC",
	};
	int32_t f = (int32_t)family, p = (int32_t)proto;
	size_t i;

	if (f == 2 || f == 10) {
		for (i = 0; i < COUNT(ip); i++)
			if ((int64_t)ip[i].val == p) {
				dt_sb_puts(sb, ip[i].name);
				return;
			}
	} else if (f == 16 && p >= 0 && (size_t)p < COUNT(netlink) && netlink[p]) {
		dt_sb_puts(sb, netlink[p]);
		return;
	} else if (f == 17 && (p & 0xffff) == p) { /* AF_PACKET: an ethertype, big-endian */
		unsigned eth = ((unsigned)p >> 8) | (((unsigned)p & 0xff) << 8);

		if (eth == 3)
			dt_sb_puts(sb, "htons(ETH_P_ALL)");
		else if (eth == 0x0800)
			dt_sb_puts(sb, "htons(ETH_P_IP)");
		else if (eth == 0x0806)
			dt_sb_puts(sb, "htons(ETH_P_ARP)");
		else if (eth == 0x86DD)
			dt_sb_puts(sb, "htons(ETH_P_IPV6)");
		else
			dt_sb_printf(sb, "htons(%#x)", eth);
		return;
	}
	dt_sb_printf(sb, "%d", p);
}

void dt_sb_msg_flags(struct dt_sbuf *sb, uint64_t v)
{
	static const struct dt_flagname flags[] = {
		NV(0x1, "MSG_OOB"),	       NV(0x2, "MSG_PEEK"),	  NV(0x4, "MSG_DONTROUTE"),
		NV(0x8, "MSG_CTRUNC"),	       NV(0x10, "MSG_PROBE"),	  NV(0x20, "MSG_TRUNC"),
		NV(0x40, "MSG_DONTWAIT"),      NV(0x80, "MSG_EOR"),	  NV(0x100, "MSG_WAITALL"),
		NV(0x200, "MSG_FIN"),	       NV(0x400, "MSG_SYN"),	  NV(0x800, "MSG_CONFIRM"),
		NV(0x1000, "MSG_RST"),	       NV(0x2000, "MSG_ERRQUEUE"), NV(0x4000, "MSG_NOSIGNAL"),
		NV(0x8000, "MSG_MORE"),	       NV(0x10000, "MSG_WAITFORONE"), NV(0x40000, "MSG_BATCH"),
		NV(0x4000000, "MSG_ZEROCOPY"), NV(0x20000000, "MSG_FASTOPEN"),
		NV(0x40000000, "MSG_CMSG_CLOEXEC"),
	};

	DT_SB_FLAGS(sb, flags, v & 0xffffffffu, "0");
}

static const char *const sockcalls[] = {
	NULL,	       "socket",      "bind",	     "connect",	    "listen",	 "accept",
	"getsockname", "getpeername", "socketpair", "send",	    "recv",	 "sendto",
	"recvfrom",    "shutdown",    "setsockopt", "getsockopt",   "sendmsg",	 "recvmsg",
	"accept4",     "recvmmsg",    "sendmmsg",
};

static const char *const sockcalls_upper[] = {
	NULL,		   "SYS_SOCKET",      "SYS_BIND",	"SYS_CONNECT",	  "SYS_LISTEN",
	"SYS_ACCEPT",	   "SYS_GETSOCKNAME", "SYS_GETPEERNAME", "SYS_SOCKETPAIR", "SYS_SEND",
	"SYS_RECV",	   "SYS_SENDTO",      "SYS_RECVFROM",	"SYS_SHUTDOWN",	  "SYS_SETSOCKOPT",
	"SYS_GETSOCKOPT",  "SYS_SENDMSG",     "SYS_RECVMSG",	"SYS_ACCEPT4",	  "SYS_RECVMMSG",
	"SYS_SENDMMSG",
};

_Static_assert(COUNT(sockcalls) == COUNT(sockcalls_upper), "socketcall tables");

const char *dt_sockcall_name(int call)
{
	if (call <= 0 || (size_t)call >= COUNT(sockcalls))
		return NULL;
	return sockcalls[call];
}

const char *dt_sockcall_upper(int call)
{
	if (call <= 0 || (size_t)call >= COUNT(sockcalls_upper))
		return NULL;
	return sockcalls_upper[call];
}
