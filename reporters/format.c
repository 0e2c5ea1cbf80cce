// SPDX-License-Identifier: GPL-2.0-only
/* Renderers: log line, JSON line, A3 event string, report-file entry (format.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "format.h"

#define PSLIST_LOG_MAX 64 /* processes shown on a pslist log line */

static bool is_call(const struct dt_event *ev)
{
	return ev->type == DT_EV_CALL || ev->type == DT_EV_MATCH || ev->type == DT_EV_ABORT ||
	       ev->type == DT_EV_WOULD_ABORT;
}

static const char *when_name(const struct dt_event *ev)
{
	return ev->when == DT_WHEN_POST ? "post" : "pre";
}

/* Milliseconds as three digits. */
static void put_ms3(struct dt_buf *b, uint64_t ts_ns)
{
	unsigned ms = (unsigned)(ts_ns / 1000000u % 1000u);
	char t[3] = { (char)('0' + ms / 100), (char)('0' + ms / 10 % 10), (char)('0' + ms % 10) };

	dt_buf_put(b, t, 3);
}

/* HH:MM:SS.mmm; the second is formatted once per thread and second (localtime_r
 * takes a lock and strftime is slow). */
static void put_time(struct dt_buf *b, uint64_t ts_ns, bool utc)
{
	static __thread time_t cached_sec = -1;
	static __thread bool cached_utc;
	static __thread char cached[16];
	time_t sec = (time_t)(ts_ns / 1000000000u);
	struct tm tm;

	if (sec != cached_sec || utc != cached_utc) {
		if (utc)
			gmtime_r(&sec, &tm);
		else
			localtime_r(&sec, &tm);
		strftime(cached, sizeof(cached), "%H:%M:%S.", &tm);
		cached_sec = sec;
		cached_utc = utc;
	}
	dt_buf_puts(b, cached);
	put_ms3(b, ts_ns);
}

static void put_field(struct dt_buf *b, const char *s)
{
	dt_esc_text(b, s, DT_ESC_FIELD, 0);
}

/* A return value, with the errno name for syscall errors: "-2 (ENOENT)". */
static void put_ret(struct dt_buf *b, const struct dt_event *ev, int64_t ret)
{
	const char *name = NULL;

	dt_buf_put_i64(b, ret);
	if (ev->nr >= 0 && ret < 0 && ret >= -4095)
		name = strerrorname_np((int)-ret);
	if (name)
		dt_buf_printf(b, " (%s)", name);
}

/* Whether argument i is a raw guest string (quoted in the log). A buffer (DT_AT_BUF)
 * is not: its decoder renders it quoted and escaped already, "hi\n"... */
static bool arg_is_string(const struct dt_event *ev, unsigned i,
			  const struct dt_funcdesc *(*lookup)(int func_id))
{
	const struct dt_funcdesc *fd = lookup && ev->func_id >= 0 ? lookup(ev->func_id) : NULL;
	const char *v = ev->args[i].value;

	if (fd && i < fd->nargs) {
		uint8_t t = fd->args[i].type;

		return t == DT_AT_STR || t == DT_AT_PATH;
	}
	/* No catalogue: only what no decoder of a guest string could be left bare
	 * (numbers, symbolic flags like O_RDONLY|O_CLOEXEC, NULL). */
	for (; *v; v++)
		if (!((*v >= 'A' && *v <= 'Z') || (*v >= 'a' && *v <= 'z') ||
		      (*v >= '0' && *v <= '9') || *v == '_' || *v == '|' || *v == '-' ||
		      *v == '+'))
			return true;
	return false;
}

/*
 * The human log shows a decoding only where it says more than the argument: the named
 * decodings of its type (an exit code's cause and signal, a wait status), not the
 * aliases kept for filters (regs:filename, flags:flags, call:call, ...). JSON and A3
 * carry them all.
 */
static bool dec_informative(const struct dt_event *ev, unsigned k,
			    const struct dt_funcdesc *(*lookup)(int func_id))
{
	const struct dt_funcdesc *fd = lookup && ev->func_id >= 0 ? lookup(ev->func_id) : NULL;
	const char *name = ev->dec[k].name, *colon = name ? strchr(name, ':') : NULL;
	const char *const *d;
	unsigned i;

	if (!fd || !colon)
		return fd == NULL; /* without a catalogue, show everything */
	for (i = 0; i < fd->nargs && i < ev->nargs; i++) {
		const char *an = fd->args[i].name;

		if (strlen(an) != (size_t)(colon - name) || strncmp(an, name, (size_t)(colon - name)))
			continue;
		if (!ev->dec[k].value || !ev->dec[k].value[0] ||
		    (ev->args[i].value && (!strcmp(ev->args[i].value, ev->dec[k].value) ||
					   !strcmp(ev->args[i].value, "NULL"))))
			return false; /* empty, a repeat of the argument, or of a NULL pointer */
		for (d = dt_catalog_decodings(fd->args[i].type); *d; d++)
			if (!strcmp(*d, colon + 1))
				return true;
		return false;
	}
	return false;
}

static void put_log_args(struct dt_buf *b, const struct dt_event *ev,
			 const struct dt_funcdesc *(*lookup)(int func_id))
{
	unsigned i;

	dt_buf_putc(b, '(');
	for (i = 0; i < ev->nargs && i < DT_MAX_ARGS; i++) {
		const struct dt_arg *a = &ev->args[i];

		if (i)
			dt_buf_puts(b, ", ");
		put_field(b, a->name ? a->name : "?");
		dt_buf_putc(b, '=');
		if (!a->value) {
			dt_buf_put_hex(b, a->raw);
		} else if (arg_is_string(ev, i, lookup)) {
			bool cut;

			dt_buf_putc(b, '"');
			cut = dt_esc_text(b, a->value, DT_ESC_QUOTE, DT_FMT_STR_MAX);
			dt_buf_putc(b, '"');
			if (cut)
				dt_buf_puts(b, "...");
		} else if (dt_esc_text(b, a->value, 0, DT_FMT_STR_MAX)) {
			/* a decoder's rendering (flags, ["argv", ...], sockaddr): guest bytes in
			 * it are escaped by the decoder; controls are escaped again here */
			dt_buf_puts(b, "...");
		}
	}
	dt_buf_putc(b, ')');
	if (ev->ndec) {
		bool any = false;

		for (i = 0; i < ev->ndec && i < DT_MAX_DECS; i++) {
			if (!dec_informative(ev, i, lookup))
				continue;
			dt_buf_puts(b, any ? ", " : " {");
			any = true;
			put_field(b, ev->dec[i].name ? ev->dec[i].name : "?");
			dt_buf_putc(b, '=');
			if (dt_esc_text(b, ev->dec[i].value ? ev->dec[i].value : "NULL",
					DT_ESC_FIELD, DT_FMT_STR_MAX))
				dt_buf_puts(b, "...");
		}
		if (any)
			dt_buf_putc(b, '}');
	}
}

static void put_log_proc(struct dt_buf *b, const struct dt_proc_info *p)
{
	put_field(b, p->comm);
	dt_buf_putc(b, '[');
	dt_buf_put_i64(b, p->pid);
	if (p->ppid >= 0) {
		dt_buf_puts(b, "<-");
		dt_buf_put_i64(b, p->ppid);
	}
	dt_buf_putc(b, ']');
}

void dt_fmt_log(struct dt_buf *b, const struct dt_event *ev,
		const struct dt_funcdesc *(*lookup)(int func_id), bool utc)
{
	uint32_t i;

	put_time(b, ev->ts_ns, utc);
	dt_buf_putc(b, ' ');
	put_field(b, ev->vm);
	if (ev->type == DT_EV_LOST) {
		dt_buf_printf(b, " -- lost %" PRIu64 " events", ev->lost);
		if (ev->lost_sink) {
			dt_buf_printf(b, " (%s: ", ev->lost_sink);
			dt_esc_text(b, ev->lost_reason ? ev->lost_reason : "", 0, 0);
			dt_buf_putc(b, ')');
		}
		dt_buf_putc(b, '\n');
		return;
	}
	if (ev->type == DT_EV_NOTICE) {
		dt_buf_puts(b, " -- ");
		dt_esc_text(b, ev->msg ? ev->msg : "", 0, 0);
		dt_buf_putc(b, '\n');
		return;
	}
	dt_buf_puts(b, " v");
	dt_buf_put_u64(b, ev->vcpu);
	dt_buf_putc(b, ' ');
	put_log_proc(b, &ev->proc);
	dt_buf_putc(b, ' ');
	if (ev->type == DT_EV_PSLIST) {
		dt_buf_printf(b, "pslist n=%u:", ev->nps);
		for (i = 0; i < ev->nps && i < PSLIST_LOG_MAX; i++) {
			struct dt_proc_info p = { .pid = ev->ps[i].pid, .ppid = ev->ps[i].ppid };

			memcpy(p.comm, ev->ps[i].comm, sizeof(p.comm));
			p.comm[DT_COMM_LEN - 1] = '\0';
			dt_buf_putc(b, ' ');
			put_log_proc(b, &p);
		}
		if (ev->nps > PSLIST_LOG_MAX)
			dt_buf_puts(b, " ...");
		dt_buf_putc(b, '\n');
		return;
	}
	if (!is_call(ev)) {
		dt_buf_printf(b, "%s\n", dt_event_type_name(ev->type));
		return;
	}
	if (ev->func)
		put_field(b, ev->func);
	else
		dt_buf_printf(b, "func#%d", ev->func_id);
	put_log_args(b, ev, lookup);
	if (ev->type == DT_EV_ABORT && ev->when != DT_WHEN_POST) {
		dt_buf_puts(b, " = ");
		put_ret(b, ev, ev->abort_ret);
		dt_buf_printf(b, " [aborted by filter #%u]\n", ev->filter);
		return;
	}
	if (ev->when == DT_WHEN_POST && ev->has_ret) {
		dt_buf_puts(b, " = ");
		put_ret(b, ev, ev->ret);
		if (ev->latency_ns)
			dt_buf_printf(b, " <%" PRIu64 ".%06" PRIu64 ">", ev->latency_ns / 1000000000u,
				      ev->latency_ns / 1000u % 1000000u);
	} else {
		dt_buf_puts(b, ev->when == DT_WHEN_POST ? " = ?"
			       : ev->unfinished	  ? " <unfinished when domtrace detached>"
			       : ev->post_follows ? " ..."
						  : "");
	}
	switch (ev->type) {
	case DT_EV_MATCH:
		dt_buf_printf(b, " [match #%u]", ev->filter);
		break;
	case DT_EV_ABORT: /* at post: the return value was replaced */
		dt_buf_puts(b, " [returned ");
		put_ret(b, ev, ev->abort_ret);
		dt_buf_printf(b, " by filter #%u]", ev->filter);
		break;
	case DT_EV_WOULD_ABORT:
		dt_buf_puts(b, " [would abort = ");
		put_ret(b, ev, ev->abort_ret);
		dt_buf_printf(b, ", filter #%u]", ev->filter);
		break;
	default:
		break;
	}
	dt_buf_putc(b, '\n');
}

/* JSON helpers: every key is a literal; `b` ends in '{' or '[' before the first. */
static void jsep(struct dt_buf *b)
{
	char last = b->len ? b->p[b->len - 1] : '{';

	if (last != '{' && last != '[')
		dt_buf_putc(b, ',');
}

/* A key is a literal: `"key":` goes in with one copy of a length known when compiling
 * (callgrind, one-probe JSON run on the sim: keys were 2,100 of 5,100 instructions per
 * event when each was four buffer calls and a strlen). */
static void jkey_lit(struct dt_buf *b, const char *lit, size_t n)
{
	jsep(b);
	dt_buf_put(b, lit, n);
}
#define JKEY_LIT(key) "\"" key "\":"
#define jkey(b, key) jkey_lit((b), JKEY_LIT(key), sizeof(JKEY_LIT(key)) - 1)

static void jstr_val(struct dt_buf *b, const char *val)
{
	dt_buf_putc(b, '"');
	dt_esc_json(b, val);
	dt_buf_putc(b, '"');
}

static void jhex_val(struct dt_buf *b, uint64_t v)
{
	dt_buf_putc(b, '"');
	dt_buf_put_hex(b, v);
	dt_buf_putc(b, '"');
}

#define jstr(b, key, val) (jkey(b, key), jstr_val((b), (val)))
#define jint(b, key, v) (jkey(b, key), dt_buf_put_i64((b), (v)))
#define juint(b, key, v) (jkey(b, key), dt_buf_put_u64((b), (v)))
#define jhex(b, key, v) (jkey(b, key), jhex_val((b), (v)))

/* A process as a JSON object (its key, if any, already put) */
static void jproc(struct dt_buf *b, const struct dt_proc_info *p)
{
	dt_buf_putc(b, '{');
	jint(b, "pid", p->pid);
	jint(b, "tgid", p->tgid);
	jint(b, "ppid", p->ppid);
	jint(b, "rppid", p->rppid);
	juint(b, "uid", p->uid);
	juint(b, "gid", p->gid);
	juint(b, "euid", p->euid);
	juint(b, "egid", p->egid);
	jstr(b, "comm", p->comm);
	jhex(b, "task", p->task);
	dt_buf_putc(b, '}');
}

static void put_iso_time(struct dt_buf *b, uint64_t ts_ns)
{
	static __thread time_t cached_sec = -1;
	static __thread char cached[32];
	time_t sec = (time_t)(ts_ns / 1000000000u);
	uint64_t ns = ts_ns % 1000000000u;
	char frac[9];
	struct tm tm;
	int i;

	if (sec != cached_sec) {
		gmtime_r(&sec, &tm);
		strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S.", &tm);
		cached_sec = sec;
	}
	for (i = 8; i >= 0; i--, ns /= 10)
		frac[i] = (char)('0' + ns % 10);
	jkey(b, "ts");
	dt_buf_putc(b, '"');
	dt_buf_puts(b, cached);
	dt_buf_put(b, frac, 9);
	dt_buf_puts(b, "Z\"");
}

void dt_fmt_json(struct dt_buf *b, const struct dt_event *ev)
{
	unsigned i;

	dt_buf_putc(b, '{');
	put_iso_time(b, ev->ts_ns);
	juint(b, "ts_ns", ev->ts_ns);
	jstr(b, "type", dt_event_type_name(ev->type));
	jstr(b, "vm", ev->vm);
	juint(b, "domid", ev->domid);
	if (ev->seq)
		juint(b, "seq", ev->seq);
	if (ev->type == DT_EV_LOST) {
		juint(b, "lost", ev->lost);
		if (ev->lost_sink) {
			jstr(b, "sink", ev->lost_sink);
			jstr(b, "reason", ev->lost_reason ? ev->lost_reason : "");
		}
		goto out;
	}
	if (ev->type == DT_EV_NOTICE) {
		jstr(b, "msg", ev->msg ? ev->msg : "");
		goto out;
	}
	juint(b, "vcpu", ev->vcpu);
	jkey(b, "proc");
	jproc(b, &ev->proc);
	if (ev->nanc && ev->anc) {
		jsep(b);
		dt_buf_puts(b, "\"ancestors\":[");
		for (i = 0; i < ev->nanc; i++) {
			jsep(b);
			jproc(b, &ev->anc[i]);
		}
		dt_buf_putc(b, ']');
	}
	if (ev->type == DT_EV_PSLIST) {
		jsep(b);
		dt_buf_puts(b, "\"procs\":[");
		for (i = 0; i < ev->nps; i++) {
			char comm[DT_COMM_LEN];

			memcpy(comm, ev->ps[i].comm, sizeof(comm));
			comm[DT_COMM_LEN - 1] = '\0';
			jsep(b);
			dt_buf_putc(b, '{');
			jint(b, "pid", ev->ps[i].pid);
			jint(b, "ppid", ev->ps[i].ppid);
			jstr(b, "comm", comm);
			dt_buf_putc(b, '}');
		}
		dt_buf_putc(b, ']');
		goto out;
	}
	if (!is_call(ev))
		goto out;
	jstr(b, "when", when_name(ev));
	jstr(b, "func", ev->func ? ev->func : "");
	jint(b, "nr", ev->nr);
	jkey(b, "compat");
	dt_buf_puts(b, ev->compat ? "true" : "false");
	jhex(b, "site", ev->site);
	jsep(b);
	dt_buf_puts(b, "\"args\":{");
	for (i = 0; i < ev->nargs && i < DT_MAX_ARGS; i++) {
		jsep(b);
		dt_buf_putc(b, '"');
		dt_esc_json(b, ev->args[i].name ? ev->args[i].name : "?");
		dt_buf_puts(b, "\":\"");
		if (ev->args[i].value)
			dt_esc_json(b, ev->args[i].value);
		else
			dt_buf_put_hex(b, ev->args[i].raw);
		dt_buf_putc(b, '"');
	}
	dt_buf_puts(b, "},\"raw\":[");
	for (i = 0; i < ev->nargs && i < DT_MAX_ARGS; i++) {
		dt_buf_puts(b, i ? ",\"" : "\"");
		dt_buf_put_hex(b, ev->args[i].raw);
		dt_buf_putc(b, '"');
	}
	dt_buf_putc(b, ']');
	if (ev->ndec) {
		jsep(b);
		dt_buf_puts(b, "\"dec\":{");
		for (i = 0; i < ev->ndec && i < DT_MAX_DECS; i++) {
			jsep(b);
			dt_buf_putc(b, '"');
			dt_esc_json(b, ev->dec[i].name ? ev->dec[i].name : "?");
			dt_buf_puts(b, "\":\"");
			dt_esc_json(b, ev->dec[i].value ? ev->dec[i].value : "NULL");
			dt_buf_putc(b, '"');
		}
		dt_buf_putc(b, '}');
	}
	if (ev->has_ret)
		jint(b, "ret", ev->ret);
	if (ev->unfinished) { /* an entry whose return domtrace did not see: it detached */
		jkey(b, "unfinished");
		dt_buf_puts(b, "true");
	}
	if (ev->latency_ns)
		juint(b, "latency_ns", ev->latency_ns);
	if (ev->filter)
		juint(b, "filter", ev->filter);
	if (ev->type == DT_EV_ABORT || ev->type == DT_EV_WOULD_ABORT)
		jint(b, "abort_ret", ev->abort_ret);
out:
	dt_buf_puts(b, "}\n");
}

bool dt_fmt_a3_wanted(const struct dt_event *ev)
{
	return ev->type == DT_EV_MATCH || ev->type == DT_EV_ABORT ||
	       ev->type == DT_EV_WOULD_ABORT || ev->type == DT_EV_PSLIST || ev->type == DT_EV_LOST;
}

const char *dt_fmt_a3_eventtype(const struct dt_event *ev)
{
	return ev->type == DT_EV_ABORT ? "ENF" : "OBS";
}

/* Whether decoding k is named "<argument i's name>:..." */
static bool dec_of_arg(const struct dt_event *ev, unsigned k, unsigned i)
{
	const char *an = ev->args[i].name, *dn = ev->dec[k].name;
	size_t la;

	if (!an || !dn)
		return false;
	la = strlen(an);
	return strncmp(dn, an, la) == 0 && dn[la] == ':';
}

static void put_a3_dec(struct dt_buf *b, const struct dt_decoding *d)
{
	dt_esc_text(b, d->name ? d->name : "?", 0, 0);
	dt_buf_putc(b, '=');
	dt_esc_text(b, d->value ? d->value : "NULL", 0, 0);
	dt_buf_putc(b, ',');
}

bool dt_fmt_a3(struct dt_buf *b, const struct dt_event *ev)
{
	unsigned i, k;

	if (!dt_fmt_a3_wanted(ev))
		return false;
	dt_buf_puts(b, "domain=");
	put_field(b, ev->vm);
	dt_buf_puts(b, " type=");
	dt_buf_puts(b, dt_event_type_name(ev->type));
	switch (ev->type) {
	case DT_EV_LOST:
		dt_buf_printf(b, " count=%" PRIu64, ev->lost);
		if (ev->lost_sink) {
			dt_buf_printf(b, " sink=%s reason=", ev->lost_sink);
			put_field(b, ev->lost_reason ? ev->lost_reason : "");
		}
		return true;
	case DT_EV_PSLIST:
		dt_buf_putc(b, ' ');
		for (i = 0; i < ev->nps; i++) {
			char comm[DT_COMM_LEN];

			memcpy(comm, ev->ps[i].comm, sizeof(comm));
			comm[DT_COMM_LEN - 1] = '\0';
			dt_buf_printf(b, "pid=%d,ppid=%d,name=", ev->ps[i].pid, ev->ps[i].ppid);
			put_field(b, comm);
			dt_buf_putc(b, '|');
		}
		return true;
	case DT_EV_MATCH:
		dt_buf_puts(b, " when=");
		dt_buf_puts(b, when_name(ev));
		break;
	default: /* abort, would-abort */
		dt_buf_puts(b, " retval=");
		dt_buf_put_i64(b, ev->abort_ret);
		break;
	}
	dt_buf_puts(b, " pid=");
	dt_buf_put_i64(b, ev->proc.pid);
	dt_buf_puts(b, " name=");
	put_field(b, ev->proc.comm);
	dt_buf_puts(b, " ppid=");
	dt_buf_put_i64(b, ev->proc.ppid);
	dt_buf_putc(b, ' ');
	if (ev->func)
		put_field(b, ev->func);
	else
		dt_buf_printf(b, "func#%d", ev->func_id);
	/* The seed's order: each argument, then its decodings (code=0xb,code:cause=signal,
	 * ...). Aliases are left out; a decoding of no argument comes after them all. */
	dt_buf_putc(b, '(');
	for (i = 0; i < ev->nargs && i < DT_MAX_ARGS; i++) {
		dt_esc_text(b, ev->args[i].name ? ev->args[i].name : "?", 0, 0);
		dt_buf_putc(b, '=');
		if (ev->args[i].value)
			dt_esc_text(b, ev->args[i].value, 0, 0);
		else
			dt_buf_put_hex(b, ev->args[i].raw);
		dt_buf_putc(b, ',');
		for (k = 0; k < ev->ndec && k < DT_MAX_DECS; k++)
			if (!ev->dec[k].alias && dec_of_arg(ev, k, i))
				put_a3_dec(b, &ev->dec[k]);
	}
	for (k = 0; k < ev->ndec && k < DT_MAX_DECS; k++) {
		bool tied = false;

		for (i = 0; i < ev->nargs && i < DT_MAX_ARGS && !tied; i++)
			tied = dec_of_arg(ev, k, i);
		if (!ev->dec[k].alias && !tied)
			put_a3_dec(b, &ev->dec[k]);
	}
	if (ev->when == DT_WHEN_POST && ev->has_ret) {
		dt_buf_puts(b, "ret_value=");
		dt_buf_put_i64(b, ev->ret);
	}
	dt_buf_putc(b, ')');
	return true;
}

void dt_fmt_a3_get_target(struct dt_buf *b, const struct dt_event *ev, const char *prefix)
{
	struct dt_buf tmp = { 0 };

	dt_fmt_a3(&tmp, ev);
	dt_buf_puts(b, prefix);
	dt_buf_puts(b, "VMI:%20");
	dt_url_encode(b, tmp.p ? tmp.p : "");
	dt_buf_printf(b, "&&ts=%" PRIu64 "&origin=VMI&vmid=", ev->ts_ns / 1000000u);
	dt_url_encode(b, ev->vm);
	dt_buf_printf(b, "&eventtype=%s", dt_fmt_a3_eventtype(ev));
	if (tmp.oom)
		b->oom = true;
	dt_buf_free(&tmp);
}

static void put_lineage_entry(struct dt_buf *b, const struct dt_proc_info *p)
{
	dt_buf_printf(b, "    pid=%d,name=", p->pid);
	put_field(b, p->comm);
	dt_buf_printf(b, ",ppid=%d,rppid=%d,tgid=%d,uid=%u,euid=%u,gid=%u,egid=%u\n", p->ppid,
		      p->rppid, p->tgid, p->uid, p->euid, p->gid, p->egid);
}

bool dt_fmt_report(struct dt_buf *b, const struct dt_event *ev)
{
	unsigned i;

	if (ev->type == DT_EV_CALL || ev->type == DT_EV_PSLIST)
		return false;
	dt_buf_printf(b, "%" PRIu64 ".%03u: ", ev->ts_ns / 1000000000u,
		      (unsigned)(ev->ts_ns / 1000000u % 1000u));
	if (ev->type == DT_EV_NOTICE) {
		dt_buf_puts(b, "domain=");
		put_field(b, ev->vm);
		dt_buf_putc(b, ' ');
		dt_esc_text(b, ev->msg ? ev->msg : "", 0, 0);
		dt_buf_putc(b, '\n');
		return true;
	}
	dt_fmt_a3(b, ev);
	dt_buf_putc(b, '\n');
	if (ev->type == DT_EV_LOST)
		return true;
	dt_buf_puts(b, "  Pid lineage:\n");
	put_lineage_entry(b, &ev->proc);
	for (i = 0; ev->anc && i < ev->nanc; i++)
		put_lineage_entry(b, &ev->anc[i]);
	return true;
}
