/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit-emu --device FILE: a virtual device described in JSON, parsed with
 * json-c into an emu_profile (the format: doc/device-format.md). The
 * built-in devices are such descriptions too (emu/devices/NAME.json,
 * compiled in by CMake).
 *
 * Hostile input is expected: every key is known (a typo is an error, not
 * ignored), every value is range-checked, sizes are bounded, and every
 * message names the file and the key path ("board.json: alts[1].memory[0].
 * pages: expected an integer"). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "emu_internal.h"

#define MAX_FILE_BYTES (64u << 20) /* a description, base64 memory images included */
#define MAX_NAME 63
#define MAX_TEXT 2048 /* description, sources */

/* ---- the parse context: file label, key path, first error ---- */

typedef struct pctx {
	const char *file;    /* label for messages */
	const char *basedir; /* where "file" items are looked for; NULL: refused */
	char path[192];
	size_t plen;
	char *err;
	size_t errsz;
	uint64_t patch_bytes; /* initial contents so far: bounded */
} pctx;

static bool fail(pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(pctx *c, const char *fmt, ...)
{
	char msg[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (c->plen)
		snprintf(c->err, c->errsz, "%s: %s: %s", c->file, c->path, msg);
	else
		snprintf(c->err, c->errsz, "%s: %s", c->file, msg);
	return false;
}

/* A JSON key in a message: printable ASCII only, cut short. */
static void clean_key(const char *key, char *out, size_t outsz)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)key; *p && n + 4 < outsz; p++)
		out[n++] = (*p >= 0x20 && *p < 0x7F) ? (char)*p : '?';
	if (key[n] && n + 4 <= outsz)
		memcpy(out + n, "...", 3), n += 3;
	out[n] = '\0';
}

static size_t push_key(pctx *c, const char *key)
{
	size_t saved = c->plen;
	char k[48];
	clean_key(key, k, sizeof k);
	int n = snprintf(c->path + c->plen, sizeof c->path - c->plen, "%s%s", c->plen ? "." : "", k);
	if (n > 0)
		c->plen += (size_t)n < sizeof c->path - c->plen ? (size_t)n : sizeof c->path - c->plen - 1;
	return saved;
}

static size_t push_index(pctx *c, size_t i)
{
	size_t saved = c->plen;
	int n = snprintf(c->path + c->plen, sizeof c->path - c->plen, "[%zu]", i);
	if (n > 0)
		c->plen += (size_t)n < sizeof c->path - c->plen ? (size_t)n : sizeof c->path - c->plen - 1;
	return saved;
}

static void pop(pctx *c, size_t saved)
{
	c->plen = saved;
	c->path[saved] = '\0';
}

/* ---- typed members ---- */

static const char *type_name(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double: return "a fractional number";
	case json_type_int: return "an integer";
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	case json_type_string: return "a string";
	}
	return "something else";
}

/* Every key of o must be in the NULL-terminated list. */
static bool check_keys(pctx *c, json_object *o, const char *const *known)
{
	struct json_object_iterator it = json_object_iter_begin(o), end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *k = json_object_iter_peek_name(&it);
		size_t i = 0;
		while (known[i] && strcmp(known[i], k) != 0)
			i++;
		if (known[i])
			continue;
		char list[512] = "", ck[48];
		size_t n = 0;
		for (i = 0; known[i] && n < sizeof list; i++) {
			int w = snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", known[i]);
			n += w > 0 ? (size_t)w : 0;
		}
		clean_key(k, ck, sizeof ck);
		return fail(c, "unknown key \"%s\" (known here: %s)", ck, list);
	}
	return true;
}

/* The member, NULL when absent; a JSON null is "present" (*present). */
static json_object *member(json_object *o, const char *key, bool *present)
{
	json_object *v = NULL;
	bool p = json_object_object_get_ex(o, key, &v) != 0;
	if (present)
		*present = p;
	return v;
}

static bool want_type(pctx *c, json_object *v, json_type t, const char *what)
{
	if (json_object_is_type(v, t))
		return true;
	return fail(c, "expected %s, not %s", what, type_name(v));
}

enum { MEMBER_BAD, MEMBER_ABSENT, MEMBER_OK };

/* The array member key of o. MEMBER_OK: *a and *n are the array and its
 * length, and key is on the path (*saved pops it). MEMBER_ABSENT: nothing
 * done. MEMBER_BAD: present but not an array (what it should be is in the
 * message). */
static int array_member(pctx *c, json_object *o, const char *key, const char *what, json_object **a, size_t *n,
			size_t *saved)
{
	bool present;
	*a = member(o, key, &present);
	*n = 0;
	*saved = c->plen;
	if (!present)
		return MEMBER_ABSENT;
	*saved = push_key(c, key);
	if (!want_type(c, *a, json_type_array, what))
		return MEMBER_BAD;
	*n = json_object_array_length(*a);
	return MEMBER_OK;
}

/* An integer: a JSON number or a string of decimal or 0x-hex digits
 * ("0x0483" reads better than 1155 for an id). */
static bool to_uint(pctx *c, json_object *v, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t x = 0;
	if (json_object_is_type(v, json_type_int)) {
		if (json_object_get_int64(v) < 0)
			return fail(c, "%lld is out of range (%llu to %llu)", (long long)json_object_get_int64(v),
				    (unsigned long long)min, (unsigned long long)max);
		x = json_object_get_uint64(v);
	} else if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		int base = 10;
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
			base = 16, s += 2;
		if (!*s)
			return fail(c, "expected an integer, not \"%.40s\"", json_object_get_string(v));
		for (; *s; s++) {
			int d = (*s >= '0' && *s <= '9')		 ? *s - '0'
				: (base == 16 && *s >= 'a' && *s <= 'f') ? *s - 'a' + 10
				: (base == 16 && *s >= 'A' && *s <= 'F') ? *s - 'A' + 10
									 : -1;
			if (d < 0)
				return fail(c, "expected an integer (decimal or 0x hex), not \"%.40s\"",
					    json_object_get_string(v));
			if (x > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
				return fail(c, "\"%.40s\" is out of range (%llu to %llu)", json_object_get_string(v),
					    (unsigned long long)min, (unsigned long long)max);
			x = x * (uint64_t)base + (uint64_t)d;
		}
	} else {
		return fail(c, "expected an integer, not %s", type_name(v));
	}
	if (x < min || x > max)
		return fail(c, "%llu is out of range (%llu to %llu)", (unsigned long long)x, (unsigned long long)min,
			    (unsigned long long)max);
	*out = x;
	return true;
}

/* Optional integer member: *out keeps its default when absent. */
static bool get_uint(pctx *c, json_object *o, const char *key, uint64_t min, uint64_t max, uint64_t *out)
{
	bool present;
	json_object *v = member(o, key, &present);
	if (!present)
		return true;
	size_t s = push_key(c, key);
	bool ok = to_uint(c, v, min, max, out);
	if (ok)
		pop(c, s);
	return ok;
}

#define GET_INT(c, o, key, min, max, field)                                                                            \
	do {                                                                                                           \
		uint64_t v_ = (field);                                                                                 \
		if (!get_uint((c), (o), (key), (min), (max), &v_))                                                     \
			return false;                                                                                  \
		(field) = (__typeof__(field))v_;                                                                       \
	} while (0)

static bool get_bool(pctx *c, json_object *o, const char *key, bool *out)
{
	bool present;
	json_object *v = member(o, key, &present);
	if (!present)
		return true;
	size_t s = push_key(c, key);
	if (!want_type(c, v, json_type_boolean, "true or false"))
		return false;
	*out = json_object_get_boolean(v);
	pop(c, s);
	return true;
}

/* Optional string member, copied (bounded); *out NULL when absent. */
static bool get_text(pctx *c, json_object *o, const char *key, size_t maxlen, char **out)
{
	bool present;
	json_object *v = member(o, key, &present);
	if (!present)
		return true;
	size_t s = push_key(c, key);
	if (!want_type(c, v, json_type_string, "a string"))
		return false;
	if ((size_t)json_object_get_string_len(v) > maxlen)
		return fail(c, "longer than %zu bytes", maxlen);
	free(*out);
	*out = strdup(json_object_get_string(v));
	if (!*out)
		return fail(c, "out of memory");
	pop(c, s);
	return true;
}

/* One of the names (case-sensitive); its index in *out. */
static bool get_enum(pctx *c, json_object *o, const char *key, const char *const *names, int *out)
{
	bool present;
	json_object *v = member(o, key, &present);
	if (!present)
		return true;
	size_t s = push_key(c, key);
	if (!want_type(c, v, json_type_string, "a string"))
		return false;
	const char *str = json_object_get_string(v);
	for (int i = 0; names[i]; i++)
		if (strcmp(str, names[i]) == 0) {
			*out = i;
			pop(c, s);
			return true;
		}
	char list[256] = "";
	size_t n = 0;
	for (int i = 0; names[i] && n < sizeof list; i++) {
		int w = snprintf(list + n, sizeof list - n, "%s\"%s\"", i ? ", " : "", names[i]);
		n += w > 0 ? (size_t)w : 0;
	}
	char ck[48];
	clean_key(str, ck, sizeof ck);
	return fail(c, "\"%s\" is not one of %s", ck, list);
}

/* ---- bytes: hex, base64, files ---- */

static int hexdigit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Hex digit pairs; blanks, ':' and '-' between bytes are ignored. */
static bool decode_hex(pctx *c, const char *s, uint8_t **out, size_t *outlen)
{
	size_t n = strlen(s);
	uint8_t *b = malloc(n / 2 + 1);
	size_t k = 0;
	if (!b)
		return fail(c, "out of memory");
	for (size_t i = 0; i < n;) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == ':' || s[i] == '-') {
			i++;
			continue;
		}
		int hi = hexdigit(s[i]), lo = i + 1 < n ? hexdigit(s[i + 1]) : -1;
		if (hi < 0 || lo < 0) {
			free(b);
			return fail(c, "not hex digit pairs at character %zu", i + 1);
		}
		b[k++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	*out = b;
	*outlen = k;
	return true;
}

static int b64digit(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* Standard base64 (RFC 4648), '=' padding optional, blanks ignored. */
static bool decode_b64(pctx *c, const char *s, uint8_t **out, size_t *outlen)
{
	size_t n = strlen(s), k = 0;
	uint8_t *b = malloc(n / 4 * 3 + 3);
	uint32_t acc = 0;
	int bits = 0;
	bool pad = false;
	if (!b)
		return fail(c, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
			continue;
		if (s[i] == '=') {
			pad = true;
			continue;
		}
		int d = b64digit(s[i]);
		if (d < 0 || pad) {
			free(b);
			return fail(c, "not base64 at character %zu", i + 1);
		}
		acc = (acc << 6) | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			b[k++] = (uint8_t)(acc >> bits);
		}
	}
	if (bits >= 6) { /* a lone sixth of a byte: truncated */
		free(b);
		return fail(c, "base64 text ends in the middle of a byte");
	}
	*out = b;
	*outlen = k;
	return true;
}

/* Reads a whole file of at most max bytes. */
static bool read_file(const char *path, size_t max, uint8_t **out, size_t *len, char *why, size_t whysz)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(why, whysz, "%s", strerror(errno));
		return false;
	}
	size_t cap = 4096, n = 0;
	uint8_t *b = malloc(cap);
	while (b) {
		if (n == cap) {
			if (cap > max) {
				snprintf(why, whysz, "larger than %zu bytes", max);
				break;
			}
			uint8_t *nb = realloc(b, cap * 2);
			if (!nb)
				break;
			b = nb;
			cap *= 2;
		}
		size_t got = fread(b + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f)) {
				snprintf(why, whysz, "%s", strerror(errno));
				break;
			}
			fclose(f);
			if (n > max) {
				snprintf(why, whysz, "larger than %zu bytes", max);
				free(b);
				return false;
			}
			*out = b;
			*len = n;
			return true;
		}
	}
	if (!b)
		snprintf(why, whysz, "out of memory");
	free(b);
	fclose(f);
	return false;
}

/* ---- strings ---- */

/* UTF-16 units of a UTF-8 text (already validated by the tokenizer). */
static size_t utf16_units(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p & 0xC0) == 0x80)
			continue;
		n += *p >= 0xF0 ? 2 : 1;
	}
	return n;
}

/* A USB string: "text", null (none), or {"bytes": "HEX"} (the whole
 * descriptor as sent, bLength and bDescriptorType included). */
static bool to_str(pctx *c, json_object *v, emu_str *out)
{
	if (!v) {
		out->kind = EMU_STR_NONE;
		return true;
	}
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		if (utf16_units(s) > 126)
			return fail(c, "longer than a string descriptor holds (126 UTF-16 units)");
		char *t = strdup(s);
		if (!t)
			return fail(c, "out of memory");
		out->kind = EMU_STR_TEXT;
		out->text = t;
		return true;
	}
	if (!json_object_is_type(v, json_type_object))
		return fail(c, "expected a string, null or {\"bytes\": \"HEX\"}, not %s", type_name(v));
	static const char *const keys[] = {"bytes", NULL};
	if (!check_keys(c, v, keys))
		return false;
	json_object *b = member(v, "bytes", NULL);
	size_t s = push_key(c, "bytes");
	if (!b)
		return fail(c, "missing (the string descriptor's bytes in hex)");
	if (!want_type(c, b, json_type_string, "a string of hex digits"))
		return false;
	uint8_t *raw;
	size_t n;
	if (!decode_hex(c, json_object_get_string(b), &raw, &n))
		return false;
	if (n < 2 || n > 255) {
		free(raw);
		return fail(c, "%zu bytes: a string descriptor has 2 to 255", n);
	}
	pop(c, s);
	out->kind = EMU_STR_RAW;
	out->raw = raw;
	out->raw_len = n;
	return true;
}

static bool get_str(pctx *c, json_object *o, const char *key, emu_str *out)
{
	bool present;
	json_object *v = member(o, key, &present);
	if (!present)
		return true;
	size_t s = push_key(c, key);
	emu_str tmp = {EMU_STR_NONE, NULL, NULL, 0};
	if (!to_str(c, v, &tmp))
		return false;
	/* a default copied from the DFU mode is owned there: not freed */
	*out = tmp;
	pop(c, s);
	return true;
}

/* ---- quirks ---- */

static const struct {
	const char *name;
	uint32_t bit;
	emu_early early;
	const char *help;
} quirk_names[] = {
    {"busy-naks", 0, EMU_EARLY_NAK,
     "a request during a busy period is NAKed until the operation is done: its answer comes late (STM32F1/F4 ROMs)"},
    {"busy-answers-dnbusy", 0, EMU_EARLY_BUSY,
     "a GETSTATUS during a busy period gets dfuDNBUSY again with the time left; other requests stall, state kept "
     "(STM32H7 ROM)"},
    {"busy-stalls-first-poll", 0, EMU_EARLY_STALL,
     "as busy-answers-dnbusy, but the first early GETSTATUS of every other operation stalls (STM32L4 ROM)"},
    {"write-unerased-ands", EMU_Q_WRITE_UNERASED_ANDS, EMU_EARLY_SPEC,
     "programming flash that is not erased clears bits silently (AND) instead of failing with errWRITE"},
    {"clrstatus-errunknown", EMU_Q_CLRSTATUS_ERRUNKNOWN, EMU_EARLY_SPEC,
     "CLRSTATUS outside dfuERROR is not stalled but leads to dfuERROR with errUNKNOWN (ST ROMs)"},
    {"abort-anywhere", EMU_Q_ABORT_ANYWHERE, EMU_EARLY_SPEC,
     "ABORT is taken in dfuDNLOAD-SYNC and dfuMANIFEST-SYNC too, and ignored (no stall) in the other states"},
    {"detach-reenumerates", EMU_Q_DETACH_REENUMERATES, EMU_EARLY_SPEC,
     "DFU_DETACH in DFU mode makes the loader re-enumerate (ST ROMs) instead of a stall into dfuERROR"},
    {"stall-keeps-state", EMU_Q_STALL_KEEPS_STATE, EMU_EARLY_SPEC,
     "a request the state does not allow (unknown request, wrong direction, DNLOAD or UPLOAD in a wrong state) "
     "stalls without going to dfuERROR"},
    {"always-dnbusy", EMU_Q_ALWAYS_DNBUSY, EMU_EARLY_SPEC,
     "the GETSTATUS after every DNLOAD reports dfuDNBUSY once, even with nothing to wait for (DfuSe ROMs); "
     "otherwise only an operation that takes time does"},
    {"leave-checks-vector", EMU_Q_LEAVE_CHECKS_VECTOR, EMU_EARLY_SPEC,
     "DfuSe leave starts the application only when the address pointer holds a vector table whose initial stack "
     "pointer lies in SRAM (0x20000000); otherwise the loader resets into itself"},
    {"busy-until-clrstatus", EMU_Q_BUSY_UNTIL_CLRSTATUS, EMU_EARLY_SPEC,
     "an erase beyond the first MiB of a memory is done in its time, but the device stays in dfuDNBUSY "
     "(with the same poll timeout) until it gets CLRSTATUS, which takes it to dfuIDLE (STM32H7 rev V)"},
    {"zero-poll-wedge", EMU_Q_ZERO_POLL_WEDGE, EMU_EARLY_SPEC,
     "the first erase wedges the loader: every GETSTATUS answers dfuDNBUSY with a 0 ms poll timeout and "
     "nothing is erased until a USB reset re-enumerates it (a wedged Black Magic Probe)"},
    {"erase-in-transfer", EMU_Q_ERASE_IN_TRANSFER, EMU_EARLY_SPEC,
     "plain DFU: the first block of a download erases the whole memory, and every block is erased and "
     "programmed inside its DNLOAD transfer (the reply comes when done; GETSTATUS reports at once) "
     "(Zephyr USB DFU, ESP32-S2)"},
    {"leave-no-status", EMU_Q_LEAVE_NO_STATUS, EMU_EARLY_SPEC,
     "DfuSe leave: the chip starts its firmware on the zero-length DNLOAD; the GETSTATUS after it is never "
     "answered: the device leaves the bus without a reply, then goes as after any leave (GD32VF103)"},
};

void emu_quirks_help(FILE *f)
{
	for (size_t i = 0; i < sizeof quirk_names / sizeof quirk_names[0]; i++)
		fprintf(f, "    %-24s %s\n", quirk_names[i].name, quirk_names[i].help);
	fprintf(f, "    and every desc=NAME fault name (str-long, func-missing, ...): always on\n");
}

static bool parse_quirks(pctx *c, json_object *root, emu_profile *p)
{
	json_object *a;
	size_t n, s;
	int got = array_member(c, root, "quirks", "an array of quirk names", &a, &n, &s);
	if (got != MEMBER_OK)
		return got == MEMBER_ABSENT;
	bool early_set = false;
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(a, i);
		size_t si = push_index(c, i);
		if (!want_type(c, v, json_type_string, "a quirk name"))
			return false;
		const char *name = json_object_get_string(v);
		size_t q = 0;
		while (q < sizeof quirk_names / sizeof quirk_names[0] && strcmp(quirk_names[q].name, name) != 0)
			q++;
		uint32_t dbit;
		if (q < sizeof quirk_names / sizeof quirk_names[0]) {
			if (quirk_names[q].early != EMU_EARLY_SPEC) {
				if (early_set)
					return fail(
					    c, "a second of busy-naks, busy-answers-dnbusy, busy-stalls-first-poll "
					       "(at most one says how a busy device answers)");
				early_set = true;
				p->t.early = quirk_names[q].early;
			} else if (p->quirks & quirk_names[q].bit) {
				return fail(c, "\"%s\" is listed twice", name);
			}
			p->quirks |= quirk_names[q].bit;
		} else if (emu_desc_fault_bit(name, &dbit)) {
			p->desc_quirks |= dbit;
		} else {
			char ck[48];
			clean_key(name, ck, sizeof ck);
			return fail(c, "unknown quirk \"%s\" (see dfukit-emu --help or doc/device-format.md)", ck);
		}
		pop(c, si);
	}
	pop(c, s);
	return true;
}

static bool parse_faults(pctx *c, json_object *root, emu_profile *p)
{
	json_object *a;
	size_t n, s;
	int got = array_member(c, root, "faults", "an array of fault SPEC strings", &a, &n, &s);
	if (got != MEMBER_OK)
		return got == MEMBER_ABSENT;
	if (n > EMU_MAX_FAULTS)
		return fail(c, "%zu faults: at most %d", n, EMU_MAX_FAULTS);
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(a, i);
		size_t si = push_index(c, i);
		if (!want_type(c, v, json_type_string, "a fault SPEC (as --fault takes)"))
			return false;
		emu_fault f;
		char msg[200];
		if (!emu_fault_parse(json_object_get_string(v), &f, msg, sizeof msg))
			return fail(c, "%s", msg);
		p->faults[p->nfaults] = strdup(json_object_get_string(v));
		if (!p->faults[p->nfaults])
			return fail(c, "out of memory");
		p->nfaults++;
		pop(c, si);
	}
	pop(c, s);
	return true;
}

/* ---- identity and interfaces ---- */

static bool parse_langids(pctx *c, json_object *o, emu_mode_def *m)
{
	json_object *a;
	size_t n, s;
	int got = array_member(c, o, "langids", "an array of language ids", &a, &n, &s);
	if (got != MEMBER_OK)
		return got == MEMBER_ABSENT;
	if (n > EMU_MAX_LANGIDS)
		return fail(c, "%zu language ids: at most %d", n, EMU_MAX_LANGIDS);
	for (size_t i = 0; i < n; i++) {
		size_t si = push_index(c, i);
		uint64_t v;
		if (!to_uint(c, json_object_array_get_idx(a, i), 0, 0xFFFF, &v))
			return false;
		m->langids[i] = (uint16_t)v;
		pop(c, si);
	}
	m->nlangids = n;
	pop(c, s);
	return true;
}

static bool parse_device(pctx *c, json_object *o, emu_mode_def *m, bool runtime)
{
	static const char *const keys[] = {"vid",
					   "pid",
					   "bcd_device",
					   "bcd_usb",
					   "device_class",
					   "device_subclass",
					   "device_protocol",
					   "max_packet_size",
					   "manufacturer",
					   "product",
					   "serial",
					   "langids",
					   "config_attributes",
					   "max_power_ma",
					   NULL};
	size_t s = push_key(c, "device");
	if (!o) {
		if (runtime) {
			pop(c, s);
			return true;
		}
		return fail(c, "missing (vid, pid, ...)");
	}
	if (!want_type(c, o, json_type_object, "an object") || !check_keys(c, o, keys))
		return false;
	if (!runtime) {
		if (!member(o, "vid", NULL))
			return fail(c, "vid: missing");
		if (!member(o, "pid", NULL))
			return fail(c, "pid: missing");
	}
	GET_INT(c, o, "vid", 0, 0xFFFF, m->vid);
	GET_INT(c, o, "pid", 0, 0xFFFF, m->pid);
	GET_INT(c, o, "bcd_device", 0, 0xFFFF, m->bcd);
	GET_INT(c, o, "bcd_usb", 0, 0xFFFF, m->bcd_usb);
	GET_INT(c, o, "device_class", 0, 0xFF, m->dev_class);
	GET_INT(c, o, "device_subclass", 0, 0xFF, m->dev_subclass);
	GET_INT(c, o, "device_protocol", 0, 0xFF, m->dev_protocol);
	uint64_t mps = m->ep0_size;
	if (!get_uint(c, o, "max_packet_size", 8, 64, &mps))
		return false;
	if (mps != 8 && mps != 16 && mps != 32 && mps != 64) {
		push_key(c, "max_packet_size");
		return fail(c, "%llu: a full-speed ep0 has 8, 16, 32 or 64", (unsigned long long)mps);
	}
	m->ep0_size = (uint8_t)mps;
	GET_INT(c, o, "config_attributes", 0, 0xFF, m->config_attrs);
	uint64_t ma = (uint64_t)m->max_power * 2;
	if (!get_uint(c, o, "max_power_ma", 0, 510, &ma))
		return false;
	m->max_power = (uint8_t)((ma + 1) / 2);
	if (!get_str(c, o, "manufacturer", &m->manufacturer) || !get_str(c, o, "product", &m->product) ||
	    !get_str(c, o, "serial", &m->serial) || !parse_langids(c, o, m))
		return false;
	pop(c, s);
	return true;
}

/* Class and endpoint descriptors of an interface: a well-formed chain. */
static bool parse_extra(pctx *c, json_object *o, emu_intf_def *in)
{
	bool present;
	json_object *v = member(o, "descriptors", &present);
	if (!present)
		return true;
	size_t s = push_key(c, "descriptors");
	if (!want_type(c, v, json_type_string, "a string of hex digits"))
		return false;
	if (!decode_hex(c, json_object_get_string(v), &in->extra, &in->extra_len))
		return false;
	if (in->extra_len > 512)
		return fail(c, "%zu bytes: at most 512", in->extra_len);
	for (size_t i = 0; i < in->extra_len;) {
		uint8_t len = in->extra[i];
		if (len < 2 || i + len > in->extra_len)
			return fail(c, "descriptor at byte %zu has bLength %u: not a chain of descriptors", i, len);
		if (in->extra[i + 1] == 4)
			return fail(c, "byte %zu: an interface descriptor (each interface is its own entry)", i);
		if (in->extra[i + 1] == 5) {
			if (len < 7)
				return fail(c, "endpoint descriptor at byte %zu is shorter than 7 bytes", i);
			if (in->num_eps == 30)
				return fail(c, "more than 30 endpoints");
			in->num_eps++;
		}
		i += len;
	}
	pop(c, s);
	return true;
}

static bool parse_interfaces(pctx *c, json_object *o, emu_mode_def *m)
{
	json_object *a;
	size_t n, s;
	int got = array_member(c, o, "interfaces", "an array of interfaces", &a, &n, &s);
	if (got == MEMBER_BAD)
		return false;
	if (got == MEMBER_OK) {
		if (n > EMU_MAX_INTFS - 1)
			return fail(c, "%zu interfaces besides the DFU one: at most %d", n, EMU_MAX_INTFS - 1);
		for (size_t i = 0; i < n; i++) {
			static const char *const keys[] = {"class", "subclass",	   "protocol",
							   "name",  "descriptors", NULL};
			json_object *v = json_object_array_get_idx(a, i);
			emu_intf_def *in = &m->intfs[i];
			size_t si = push_index(c, i);
			m->nintfs = i + 1; /* owned from now on: freed with the profile */
			if (!want_type(c, v, json_type_object, "an object") || !check_keys(c, v, keys))
				return false;
			if (!member(v, "class", NULL))
				return fail(c, "class: missing");
			GET_INT(c, v, "class", 0, 0xFF, in->cls);
			GET_INT(c, v, "subclass", 0, 0xFF, in->subclass);
			GET_INT(c, v, "protocol", 0, 0xFF, in->protocol);
			if (!get_str(c, v, "name", &in->name) || !parse_extra(c, v, in))
				return false;
			pop(c, si);
		}
		pop(c, s);
	}
	m->dfu_intf = (uint8_t)m->nintfs;
	GET_INT(c, o, "dfu_interface", 0, m->nintfs, m->dfu_intf);
	return true;
}

static bool parse_functional(pctx *c, json_object *o, emu_func_def *f)
{
	static const char *const keys[] = {"length",	"attributes", "detach_timeout", "transfer_size", "dfu_version",
					   "placement", NULL};
	bool present;
	json_object *fo = member(o, "functional", &present);
	if (!present)
		return true;
	size_t s = push_key(c, "functional");
	if (!want_type(c, fo, json_type_object, "an object") || !check_keys(c, fo, keys))
		return false;
	uint64_t len = f->length;
	if (!get_uint(c, fo, "length", 7, 9, &len))
		return false;
	if (len == 8) {
		push_key(c, "length");
		return fail(c, "7 (DFU 1.0) or 9, not 8");
	}
	f->length = (uint8_t)len;
	json_object *at = member(fo, "attributes", &present);
	if (present && json_object_is_type(at, json_type_array)) {
		static const char *const bits[] = {"can_download", "can_upload", "manifestation_tolerant",
						   "will_detach", NULL};
		size_t sa = push_key(c, "attributes");
		f->attrs = 0;
		for (size_t i = 0; i < json_object_array_length(at); i++) {
			json_object *v = json_object_array_get_idx(at, i);
			size_t si = push_index(c, i);
			if (!want_type(c, v, json_type_string, "an attribute name"))
				return false;
			int b = 0;
			while (bits[b] && strcmp(bits[b], json_object_get_string(v)) != 0)
				b++;
			if (!bits[b])
				return fail(c, "not one of can_download, can_upload, manifestation_tolerant, "
					       "will_detach");
			f->attrs |= (uint8_t)(1u << b);
			pop(c, si);
		}
		pop(c, sa);
	} else {
		GET_INT(c, fo, "attributes", 0, 0xFF, f->attrs);
	}
	GET_INT(c, fo, "detach_timeout", 0, 0xFFFF, f->detach_timeout);
	GET_INT(c, fo, "transfer_size", 0, 0xFFFF, f->xfer_size);
	GET_INT(c, fo, "dfu_version", 0, 0xFFFF, f->bcd_dfu);
	static const char *const places[] = {"end", "after-first-alt", "after-each-alt", NULL};
	int pl = (int)f->place;
	if (!get_enum(c, fo, "placement", places, &pl))
		return false;
	f->place = (emu_func_place)pl;
	pop(c, s);
	return true;
}

/* ---- memories ---- */

static bool parse_segments(pctx *c, json_object *a, bool dfuse, emu_alt_def *alt)
{
	if (!json_object_is_type(a, json_type_array))
		return fail(c, "expected a DfuSe memory map string or an array of segments, not %s", type_name(a));
	size_t n = json_object_array_length(a);
	if (n == 0 || n > EMU_MAX_SEGS)
		return fail(c, "%zu segments: 1 to %d", n, EMU_MAX_SEGS);
	if (!dfuse && n != 1)
		return fail(c, "a plain DFU memory is one segment (its size), not %zu", n);
	for (size_t i = 0; i < n; i++) {
		static const char *const keys[] = {"address", "pages", "page_size", "rights", NULL};
		json_object *v = json_object_array_get_idx(a, i);
		emu_seg *sg = &alt->segs[i];
		size_t si = push_index(c, i);
		if (!want_type(c, v, json_type_object, "an object") || !check_keys(c, v, keys))
			return false;
		uint64_t addr = 0, pages = 0, page = 0;
		if (dfuse && !member(v, "address", NULL))
			return fail(c, "address: missing");
		if (!member(v, "pages", NULL))
			return fail(c, "pages: missing");
		if (!member(v, "page_size", NULL))
			return fail(c, "page_size: missing");
		if (!get_uint(c, v, "address", 0, dfuse ? 0xFFFFFFFFu : 0, &addr) ||
		    !get_uint(c, v, "pages", 1, EMU_MAX_MEMORY, &pages) ||
		    !get_uint(c, v, "page_size", 1, EMU_MAX_MEMORY, &page))
			return false;
		if (pages * page > EMU_MAX_MEMORY)
			return fail(c, "%llu pages of %llu bytes: more than %u MiB", (unsigned long long)pages,
				    (unsigned long long)page, EMU_MAX_MEMORY >> 20);
		if (addr + pages * page > 0x100000000ull)
			return fail(c, "ends past the 4 GiB address space");
		uint8_t rights = alt->kind == EMU_MEM_FLASH ? (EMU_R | EMU_E | EMU_W) : (EMU_R | EMU_W);
		bool present;
		json_object *r = member(v, "rights", &present);
		if (present) {
			size_t sr = push_key(c, "rights");
			if (!want_type(c, r, json_type_string, "a string of r, w, e"))
				return false;
			const char *rs = json_object_get_string(r);
			rights = 0;
			for (; *rs; rs++) {
				uint8_t bit = *rs == 'r' ? EMU_R : *rs == 'w' ? EMU_W : *rs == 'e' ? EMU_E : 0;
				if (!bit || (rights & bit))
					return fail(c, "\"%.20s\": each of r (read), w (write), e (erase) at most once",
						    json_object_get_string(r));
				rights |= bit;
			}
			if (!rights)
				return fail(c, "empty: at least one of r, w, e");
			pop(c, sr);
		}
		for (size_t j = 0; j < i; j++) {
			uint64_t s0 = alt->segs[j].start, e0 = s0 + (uint64_t)alt->segs[j].count * alt->segs[j].page;
			if (addr < e0 && s0 < addr + pages * page)
				return fail(c, "overlaps segment %zu", j);
		}
		*sg = (emu_seg){(uint32_t)addr, (uint32_t)pages, (uint32_t)page, rights, alt->size};
		alt->size += pages * page;
		alt->nsegs = i + 1;
		if (alt->size > EMU_MAX_MEMORY)
			return fail(c, "the memory is larger than %u MiB", EMU_MAX_MEMORY >> 20);
		pop(c, si);
	}
	return true;
}

static bool parse_memory(pctx *c, json_object *o, bool dfuse, emu_alt_def *alt)
{
	bool present;
	json_object *v = member(o, "memory", &present);
	size_t s = push_key(c, "memory");
	if (!present) {
		if (!dfuse)
			return fail(c, "missing (a plain DFU memory: [{\"pages\": N, \"page_size\": BYTES}])");
		if (alt->name.kind != EMU_STR_TEXT)
			return fail(c, "missing, and the name is no DfuSe memory map to take it from");
		if (!emu_memmap_parse(alt->name.text, alt->segs, EMU_MAX_SEGS, &alt->nsegs, &alt->size))
			return fail(c,
				    "missing, and the name \"%.80s\" is no memory map to take it from "
				    "(\"@Name/0xADDRESS/COUNT*SIZE[K|M]TYPE,...\")",
				    alt->name.text);
	} else if (json_object_is_type(v, json_type_string)) {
		if (!dfuse)
			return fail(c, "a memory map string is for DfuSe; a plain DFU memory is "
				       "[{\"pages\": N, \"page_size\": BYTES}]");
		if (!emu_memmap_parse(json_object_get_string(v), alt->segs, EMU_MAX_SEGS, &alt->nsegs, &alt->size))
			return fail(c,
				    "\"%.80s\" is not a DfuSe memory map (\"@Name/0xADDRESS/COUNT*SIZE[K|M]TYPE,...\")",
				    json_object_get_string(v));
	} else if (!parse_segments(c, v, dfuse, alt)) {
		return false;
	}
	if (alt->size > EMU_MAX_MEMORY)
		return fail(c, "the memory is larger than %u MiB", EMU_MAX_MEMORY >> 20);
	pop(c, s);
	return true;
}

/* The buffer offset of [addr, addr+len): inside the segments, in one piece. */
static bool addr_offset(const emu_alt_def *alt, uint64_t addr, uint64_t len, uint64_t *off)
{
	for (size_t i = 0; i < alt->nsegs; i++) {
		const emu_seg *s = &alt->segs[i];
		uint64_t end = (uint64_t)s->start + (uint64_t)s->count * s->page;
		if (addr < s->start || addr >= end)
			continue;
		*off = s->off + (addr - s->start);
		/* the rest must follow in the next segments, back to back */
		uint64_t a = end, o = s->off + (end - s->start);
		for (size_t j = i + 1; a < addr + len && j < alt->nsegs; j++) {
			if (alt->segs[j].start != a || alt->segs[j].off != o)
				return false;
			uint64_t n = (uint64_t)alt->segs[j].count * alt->segs[j].page;
			a += n;
			o += n;
		}
		return a >= addr + len;
	}
	return false;
}

static bool parse_contents(pctx *c, json_object *o, bool dfuse, emu_alt_def *alt)
{
	static const char *const keys[] = {"fill", "data", NULL};
	bool present;
	json_object *co = member(o, "contents", &present);
	if (!present)
		return true;
	size_t s = push_key(c, "contents");
	if (!want_type(c, co, json_type_object, "an object") || !check_keys(c, co, keys))
		return false;
	GET_INT(c, co, "fill", 0, 0xFF, alt->fill);
	json_object *a;
	size_t n, sd;
	int got = array_member(c, co, "data", "an array of {offset or address, hex, base64 or file}", &a, &n, &sd);
	if (got == MEMBER_BAD)
		return false;
	if (got == MEMBER_ABSENT) {
		pop(c, s);
		return true;
	}
	if (n > 4096)
		return fail(c, "%zu items: at most 4096", n);
	alt->patches = calloc(n ? n : 1, sizeof *alt->patches);
	if (!alt->patches)
		return fail(c, "out of memory");
	for (size_t i = 0; i < n; i++) {
		static const char *const ikeys[] = {"offset", "address", "hex", "base64", "file", NULL};
		json_object *v = json_object_array_get_idx(a, i);
		emu_patch *pt = &alt->patches[i];
		size_t si = push_index(c, i);
		if (!want_type(c, v, json_type_object, "an object") || !check_keys(c, v, ikeys))
			return false;
		bool has_off = member(v, "offset", NULL) != NULL, has_addr = member(v, "address", NULL) != NULL;
		int forms = (member(v, "hex", NULL) != NULL) + (member(v, "base64", NULL) != NULL) +
			    (member(v, "file", NULL) != NULL);
		if (forms != 1)
			return fail(c, "exactly one of hex, base64, file");
		if (has_off && has_addr)
			return fail(c, "offset or address, not both");
		if (has_addr && !dfuse)
			return fail(c, "address: a plain DFU memory has offsets only");
		uint64_t where = 0;
		if (!get_uint(c, v, has_addr ? "address" : "offset", 0, has_addr ? 0xFFFFFFFFu : alt->size, &where))
			return false;
		const char *form = member(v, "hex", NULL) ? "hex" : member(v, "base64", NULL) ? "base64" : "file";
		json_object *d = member(v, form, NULL);
		size_t sf = push_key(c, form);
		if (!want_type(c, d, json_type_string, "a string"))
			return false;
		bool ok;
		if (form[0] == 'h') {
			ok = decode_hex(c, json_object_get_string(d), &pt->data, &pt->len);
		} else if (form[0] == 'b') {
			ok = decode_b64(c, json_object_get_string(d), &pt->data, &pt->len);
		} else {
			const char *name = json_object_get_string(d);
			char full[4096], why[128];
			if (!c->basedir)
				return fail(c, "files are not allowed here (a built-in description)");
			if (!*name)
				return fail(c, "empty file name");
			if (name[0] == '/')
				snprintf(full, sizeof full, "%s", name);
			else if ((size_t)snprintf(full, sizeof full, "%s/%s", c->basedir, name) >= sizeof full)
				return fail(c, "path too long");
			ok = read_file(full, alt->size, &pt->data, &pt->len, why, sizeof why);
			if (!ok)
				return fail(c, "cannot read %.200s: %s", full, why);
		}
		if (!ok)
			return false;
		alt->npatches = i + 1;
		c->patch_bytes += pt->len;
		if (c->patch_bytes > 2ull * EMU_MAX_MEMORY)
			return fail(c, "more than %u MiB of initial contents in all", 2 * (EMU_MAX_MEMORY >> 20));
		pop(c, sf);
		if (has_addr) {
			if (!addr_offset(alt, where, pt->len, &pt->off))
				return fail(c, "0x%08llx + %zu bytes: not inside the memory's segments (in one piece)",
					    (unsigned long long)where, pt->len);
		} else {
			pt->off = where;
			if (pt->len > alt->size - where)
				return fail(c, "%zu bytes at offset %llu: past the end of the %llu-byte memory",
					    pt->len, (unsigned long long)where, (unsigned long long)alt->size);
		}
		pop(c, si);
	}
	pop(c, sd);
	pop(c, s);
	return true;
}

static bool parse_alts(pctx *c, json_object *o, emu_profile *p)
{
	json_object *a;
	size_t n, s;
	int got = array_member(c, o, "alts", "an array of alt settings", &a, &n, &s);
	if (got == MEMBER_BAD)
		return false;
	if (got == MEMBER_ABSENT) {
		push_key(c, "alts");
		return fail(c, "missing (the DFU interface's alt settings)");
	}
	if (n == 0 || n > EMU_MAX_ALTS)
		return fail(c, "%zu alt settings: 1 to %d", n, EMU_MAX_ALTS);
	for (size_t i = 0; i < n; i++) {
		static const char *const keys[] = {"name", "memory", "kind", "contents", NULL};
		static const char *const kinds[] = {"flash", "otp", "option", "ram", NULL};
		json_object *v = json_object_array_get_idx(a, i);
		emu_alt_def *alt = &p->alts[i];
		size_t si = push_index(c, i);
		p->nalts = i + 1;
		alt->fill = 0xFF;
		if (!want_type(c, v, json_type_object, "an object") || !check_keys(c, v, keys))
			return false;
		int kind = EMU_MEM_FLASH;
		if (!get_enum(c, v, "kind", kinds, &kind))
			return false;
		alt->kind = (emu_mem_kind)kind;
		if (!get_str(c, v, "name", &alt->name) || !parse_memory(c, v, p->dfuse, alt) ||
		    !parse_contents(c, v, p->dfuse, alt))
			return false;
		p->memsize += alt->size;
		if (p->memsize > EMU_MAX_MEMORY)
			return fail(c, "the memories together are larger than %u MiB", EMU_MAX_MEMORY >> 20);
		pop(c, si);
	}
	pop(c, s);
	return true;
}

/* ---- modes ---- */

static bool parse_mode(pctx *c, json_object *root, const char *key, emu_profile *p, bool runtime)
{
	static const char *const dfu_keys[] = {"device", "interfaces", "dfu_interface", "functional", "alts", NULL};
	static const char *const rt_keys[] = {"device",	    "interfaces",     "dfu_interface",
					      "functional", "interface_name", NULL};
	bool present;
	json_object *o = member(root, key, &present);
	if (!present) {
		if (runtime)
			return true;
		return fail(c, "%s: missing (the device in DFU mode)", key);
	}
	size_t s = push_key(c, key);
	if (!want_type(c, o, json_type_object, "an object") || !check_keys(c, o, runtime ? rt_keys : dfu_keys))
		return false;
	emu_mode_def *m = &p->mode[runtime];
	if (runtime) {
		/* Everything not given is as in DFU mode; the strings are the
		 * DFU mode's (not owned: emu_profile_free knows). */
		const emu_mode_def *d = &p->mode[0];
		*m = *d;
		memset(m->intfs, 0, sizeof m->intfs);
		m->nintfs = 0;
		m->dfu_name = (emu_str){EMU_STR_NONE, NULL, NULL, 0};
		p->has_runtime = true;
	}
	if (!parse_device(c, member(o, "device", NULL), m, runtime) || !parse_interfaces(c, o, m) ||
	    !parse_functional(c, o, &m->func))
		return false;
	if (runtime) {
		if (!get_str(c, o, "interface_name", &m->dfu_name))
			return false;
	} else if (!parse_alts(c, o, p)) {
		return false;
	}
	pop(c, s);
	return true;
}

static bool parse_bus(pctx *c, json_object *root, emu_profile *p)
{
	static const char *const keys[] = {"path", "devnum", NULL};
	bool present;
	json_object *o = member(root, "bus", &present);
	if (!present)
		return true;
	size_t s = push_key(c, "bus");
	if (!want_type(c, o, json_type_object, "an object") || !check_keys(c, o, keys))
		return false;
	json_object *path = member(o, "path", &present);
	if (present) {
		size_t sp = push_key(c, "path");
		if (!want_type(c, path, json_type_string, "a string such as \"1-1.4\""))
			return false;
		/* BUS-PORT[.PORT...], as Linux names USB devices */
		const char *t = json_object_get_string(path);
		char *end;
		int depth = 0;
		bool ok = t[0] >= '1' && t[0] <= '9';
		unsigned long bus = ok ? strtoul(t, &end, 10) : 0;
		ok = ok && bus >= 1 && bus <= 127 && *end == '-';
		while (ok) {
			const char *q = end + 1;
			ok = *q >= '1' && *q <= '9';
			unsigned long port = ok ? strtoul(q, &end, 10) : 0;
			ok = ok && port <= 255 && ++depth <= 7;
			if (!ok || *end == '\0')
				break;
			ok = *end == '.';
		}
		if (!ok || strlen(t) >= sizeof p->bus_path)
			return fail(c,
				    "\"%.40s\" is not a USB port path (BUS-PORT[.PORT]..., bus 1 to 127, ports 1 to "
				    "255, at most 7 deep)",
				    t);
		snprintf(p->bus_path, sizeof p->bus_path, "%s", t);
		pop(c, sp);
	}
	GET_INT(c, o, "devnum", 1, 127, p->devnum);
	pop(c, s);
	return true;
}

static const char *const state_names[] = {"appIDLE",	      "appDETACH",   "dfuIDLE",
					  "dfuDNLOAD-SYNC",   "dfuDNBUSY",   "dfuDNLOAD-IDLE",
					  "dfuMANIFEST-SYNC", "dfuMANIFEST", "dfuMANIFEST-WAIT-RESET",
					  "dfuUPLOAD-IDLE",   "dfuERROR",    NULL};

static bool parse_power_on(pctx *c, json_object *root, emu_profile *p)
{
	static const char *const keys[] = {"mode", "state", "status", NULL};
	static const char *const modes[] = {"dfu", "runtime", NULL};
	bool present;
	json_object *o = member(root, "power_on", &present);
	if (!present)
		return true;
	size_t s = push_key(c, "power_on");
	if (!want_type(c, o, json_type_object, "an object") || !check_keys(c, o, keys))
		return false;
	int mode = 0;
	if (!get_enum(c, o, "mode", modes, &mode))
		return false;
	if (mode == 1 && !p->has_runtime)
		return fail(c, "mode: \"runtime\" needs a \"runtime\" description");
	p->starts_runtime = mode == 1;
	json_object *v = member(o, "state", &present);
	if (present) {
		size_t ss = push_key(c, "state");
		if (json_object_is_type(v, json_type_string) &&
		    !(json_object_get_string(v)[0] >= '0' && json_object_get_string(v)[0] <= '9')) {
			int i = 0;
			while (state_names[i] && strcmp(state_names[i], json_object_get_string(v)) != 0)
				i++;
			if (!state_names[i] || i < DFK_STATE_IDLE)
				return fail(c, "\"%.40s\" is not a DFU-mode state (dfuIDLE ... dfuERROR)",
					    json_object_get_string(v));
			p->start_state = (uint8_t)i;
		} else {
			uint64_t x;
			if (!to_uint(c, v, DFK_STATE_IDLE, DFK_STATE_ERROR, &x))
				return false;
			p->start_state = (uint8_t)x;
		}
		pop(c, ss);
	}
	v = member(o, "status", &present);
	if (present) {
		size_t ss = push_key(c, "status");
		if (json_object_is_type(v, json_type_string) &&
		    !(json_object_get_string(v)[0] >= '0' && json_object_get_string(v)[0] <= '9')) {
			const char *name = json_object_get_string(v);
			int st = strcmp(name, "OK") == 0 ? 0 : emu_status_parse(name);
			if (st < 0)
				return fail(c, "\"%.40s\" is not a DFU status (OK, errTARGET ... errSTALLEDPKT)", name);
			p->start_status = (uint8_t)st;
		} else {
			uint64_t x;
			if (!to_uint(c, v, 0, 255, &x))
				return false;
			p->start_status = (uint8_t)x;
		}
		pop(c, ss);
	}
	pop(c, s);
	return true;
}

static bool parse_protection(pctx *c, json_object *root, emu_profile *p)
{
	static const char *const keys[] = {"alt", "offset", "unprotect", NULL};
	bool present;
	json_object *o = member(root, "read_protection", &present);
	if (!present)
		return true;
	size_t s = push_key(c, "read_protection");
	if (!p->dfuse)
		return fail(c, "only for protocol \"dfuse\"");
	if (!want_type(c, o, json_type_object, "an object") || !check_keys(c, o, keys))
		return false;
	if (!member(o, "alt", NULL) || !member(o, "offset", NULL))
		return fail(c, "alt and offset of the protection byte are needed");
	uint64_t alt = 0, off = 0;
	if (!get_uint(c, o, "alt", 0, p->nalts - 1, &alt) ||
	    !get_uint(c, o, "offset", 0, p->alts[alt].size ? p->alts[alt].size - 1 : 0, &off))
		return false;
	p->rdp_alt = (int)alt;
	p->rdp_off = (uint32_t)off;
	p->has_unprotect = true;
	if (!get_bool(c, o, "unprotect", &p->has_unprotect))
		return false;
	pop(c, s);
	return true;
}

static bool parse_timing(pctx *c, json_object *root, emu_profile *p)
{
	static const char *const keys[] = {"erase_base_ms",	  "erase_us_per_kib", "erase_page_ms",
					   "program_ns_per_byte", "mass_erase_ms",    "mass_erase_reported_ms",
					   "command_ms",	  "manifest_ms",      "poll_timeout_percent",
					   "usb_transfer_us",	  "usb_ns_per_byte",  NULL};
	bool present;
	json_object *o = member(root, "timing", &present);
	if (!present)
		return true;
	emu_timing_def *t = &p->t;
	size_t s = push_key(c, "timing");
	if (!want_type(c, o, json_type_object, "an object") || !check_keys(c, o, keys))
		return false;
	const uint32_t max_ms = 600000; /* ten minutes */
	GET_INT(c, o, "erase_base_ms", 0, max_ms, t->erase_base_ms);
	GET_INT(c, o, "erase_us_per_kib", 0, 10000000, t->erase_us_per_kib);
	GET_INT(c, o, "program_ns_per_byte", 0, 100000000, t->prog_ns_per_byte);
	GET_INT(c, o, "mass_erase_ms", 0, max_ms, t->mass_erase_ms);
	GET_INT(c, o, "mass_erase_reported_ms", 0, max_ms, t->mass_erase_reported_ms);
	GET_INT(c, o, "command_ms", 0, max_ms, t->cmd_ms);
	GET_INT(c, o, "manifest_ms", 0, max_ms, t->manifest_ms);
	GET_INT(c, o, "poll_timeout_percent", 0, 1000, t->report_pct);
	GET_INT(c, o, "usb_transfer_us", 0, 1000000, t->usb_transfer_us);
	GET_INT(c, o, "usb_ns_per_byte", 0, 1000000, t->usb_ns_per_byte);
	json_object *a;
	size_t n, sa;
	int got = array_member(c, o, "erase_page_ms", "an array of {\"page_size\": BYTES, \"ms\": MS}", &a, &n, &sa);
	if (got == MEMBER_BAD)
		return false;
	if (got == MEMBER_OK) {
		if (n > EMU_MAX_ERASE_SIZES)
			return fail(c, "%zu page sizes: at most %d", n, EMU_MAX_ERASE_SIZES);
		for (size_t i = 0; i < n; i++) {
			static const char *const ekeys[] = {"page_size", "ms", NULL};
			json_object *v = json_object_array_get_idx(a, i);
			size_t si = push_index(c, i);
			if (!want_type(c, v, json_type_object, "an object") || !check_keys(c, v, ekeys))
				return false;
			if (!member(v, "page_size", NULL) || !member(v, "ms", NULL))
				return fail(c, "page_size and ms are needed");
			GET_INT(c, v, "page_size", 1, EMU_MAX_MEMORY, t->erase_sizes[i]);
			GET_INT(c, v, "ms", 0, max_ms, t->erase_ms[i]);
			for (size_t j = 0; j < i; j++)
				if (t->erase_sizes[j] == t->erase_sizes[i])
					return fail(c, "page size %u is listed twice", t->erase_sizes[i]);
			t->nerase = i + 1;
			pop(c, si);
		}
		pop(c, sa);
	}
	pop(c, s);
	return true;
}

/* Strings of sources: free text, checked for type only. */
static bool parse_sources(pctx *c, json_object *root)
{
	json_object *a;
	size_t n, s;
	int got = array_member(c, root, "sources", "an array of strings", &a, &n, &s);
	if (got != MEMBER_OK)
		return got == MEMBER_ABSENT;
	for (size_t i = 0; i < n; i++) {
		size_t si = push_index(c, i);
		json_object *v = json_object_array_get_idx(a, i);
		if (!want_type(c, v, json_type_string, "a string"))
			return false;
		if ((size_t)json_object_get_string_len(v) > MAX_TEXT)
			return fail(c, "longer than %d bytes", MAX_TEXT);
		pop(c, si);
	}
	pop(c, s);
	return true;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > MAX_NAME)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		      *s == '_' || *s == '.' || *s == '+'))
			return false;
	return true;
}

static bool parse_root(pctx *c, json_object *root, const char *default_name, emu_profile *p)
{
	static const char *const keys[] = {
	    "format",	"name",	    "description", "sources",	      "protocol",	 "bus",
	    "power_on", "dfu_mode", "runtime",	   "read_protection", "address_pointer", "timing",
	    "quirks",	"faults",   NULL};
	static const char *const protocols[] = {"dfu", "dfuse", NULL};
	if (!want_type(c, root, json_type_object, "a JSON object (a device description)") || !check_keys(c, root, keys))
		return false;
	uint64_t format = 1;
	if (!get_uint(c, root, "format", 1, 1, &format) || !get_text(c, root, "name", MAX_NAME, &p->name) ||
	    !get_text(c, root, "description", MAX_TEXT, &p->desc) || !parse_sources(c, root))
		return false;
	if (!p->name) {
		p->name = strdup(default_name);
		if (!p->name)
			return fail(c, "out of memory");
		if (!valid_name(p->name))
			return fail(c, "name: missing, and the file name \"%.40s\" is no device name (give \"name\")",
				    default_name);
	} else if (!valid_name(p->name)) {
		push_key(c, "name");
		return fail(c, "\"%.40s\": 1 to %d letters, digits, '-', '_', '.' or '+'", p->name, MAX_NAME);
	}
	int proto = 0;
	if (!get_enum(c, root, "protocol", protocols, &proto))
		return false;
	p->dfuse = proto == 1;
	if (!parse_quirks(c, root, p) || !parse_faults(c, root, p) || !parse_bus(c, root, p) ||
	    !parse_mode(c, root, "dfu_mode", p, false) || !parse_mode(c, root, "runtime", p, true) ||
	    !parse_power_on(c, root, p) || !parse_protection(c, root, p) || !parse_timing(c, root, p))
		return false;
	if (member(root, "address_pointer", NULL) && !p->dfuse) {
		push_key(c, "address_pointer");
		return fail(c, "only for protocol \"dfuse\"");
	}
	GET_INT(c, root, "address_pointer", 0, 0xFFFFFFFFu, p->dfuse_addr);
	return true;
}

/* ---- life cycle ---- */

static void str_free(emu_str *s)
{
	free(s->text);
	free(s->raw);
	*s = (emu_str){EMU_STR_NONE, NULL, NULL, 0};
}

static bool str_same(const emu_str *a, const emu_str *b)
{
	return a->text == b->text && a->raw == b->raw;
}

void emu_profile_free(emu_profile *p)
{
	if (!p)
		return;
	emu_mode_def *d = &p->mode[0], *r = &p->mode[1];
	/* The run-time mode shares the DFU mode's strings it did not replace. */
	if (p->has_runtime) {
		if (!str_same(&r->manufacturer, &d->manufacturer))
			str_free(&r->manufacturer);
		if (!str_same(&r->product, &d->product))
			str_free(&r->product);
		if (!str_same(&r->serial, &d->serial))
			str_free(&r->serial);
		str_free(&r->dfu_name);
		for (size_t i = 0; i < r->nintfs; i++) {
			str_free(&r->intfs[i].name);
			free(r->intfs[i].extra);
		}
	}
	str_free(&d->manufacturer);
	str_free(&d->product);
	str_free(&d->serial);
	for (size_t i = 0; i < d->nintfs; i++) {
		str_free(&d->intfs[i].name);
		free(d->intfs[i].extra);
	}
	for (size_t a = 0; a < p->nalts; a++) {
		str_free(&p->alts[a].name);
		for (size_t i = 0; i < p->alts[a].npatches; i++)
			free(p->alts[a].patches[i].data);
		free(p->alts[a].patches);
	}
	for (size_t i = 0; i < p->nfaults; i++)
		free(p->faults[i]);
	free(p->name);
	free(p->desc);
	free(p);
}

static emu_profile *profile_new(void)
{
	emu_profile *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	emu_mode_def *m = &p->mode[0];
	m->bcd_usb = 0x0200;
	m->ep0_size = 64;
	m->config_attrs = 0xC0; /* self-powered */
	m->max_power = 50;	/* 100 mA */
	m->langids[0] = 0x0409;
	m->nlangids = 1;
	m->func = (emu_func_def){9, DFK_ATTR_CAN_DNLOAD | DFK_ATTR_CAN_UPLOAD, 255, 1024, 0x0110, EMU_FUNC_END};
	p->start_state = DFK_STATE_IDLE;
	p->start_status = DFK_STATUS_OK;
	p->rdp_alt = -1;
	p->dfuse_addr = EMU_DFUSE_DEFAULT_ADDR;
	p->t.report_pct = 100;
	return p;
}

/* Line and column of a byte offset, for syntax errors. */
static void line_col(const char *text, size_t off, unsigned *line, unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n')
			(*line)++, *col = 1;
		else if (((unsigned char)text[i] & 0xC0) != 0x80)
			(*col)++;
	}
}

emu_profile *emu_desc_parse(const char *text, size_t len, const char *label, const char *basedir, char *err,
			    size_t errsz)
{
	pctx c = {.file = label, .basedir = basedir, .err = err, .errsz = errsz};
	if (len > MAX_FILE_BYTES) {
		fail(&c, "larger than %u MiB", MAX_FILE_BYTES >> 20);
		return NULL;
	}
	const char *nul = memchr(text, '\0', len);
	if (nul) {
		unsigned line, col;
		line_col(text, (size_t)(nul - text), &line, &col);
		snprintf(err, errsz, "%s:%u:%u: a NUL byte (not JSON text)", label, line, col);
		return NULL;
	}
	json_tokener *tok = json_tokener_new_ex(32);
	if (!tok) {
		fail(&c, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *root = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	if (!root && jerr == json_tokener_continue && end == len) {
		/* A top-level literal ("null", a number) ends only at the end of
		 * the input: say so with the terminating NUL. */
		root = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
	}
	json_tokener_free(tok);
	if (root || jerr == json_tokener_success) {
		while (end < len && (text[end] == ' ' || text[end] == '\t' || text[end] == '\n' || text[end] == '\r'))
			end++;
		if (end < len) {
			json_object_put(root);
			unsigned line, col;
			line_col(text, end, &line, &col);
			snprintf(err, errsz, "%s:%u:%u: JSON syntax error: text after the end of the description",
				 label, line, col);
			return NULL;
		}
	} else {
		unsigned line, col;
		line_col(text, end < len ? end : len, &line, &col);
		snprintf(err, errsz, "%s:%u:%u: JSON syntax error: %s", label, line, col,
			 jerr == json_tokener_continue ? "unexpected end of file" : json_tokener_error_desc(jerr));
		return NULL;
	}
	emu_profile *p = profile_new();
	if (!p) {
		json_object_put(root);
		fail(&c, "out of memory");
		return NULL;
	}
	/* The default name: the file's, without directory and ".json". */
	char dname[MAX_NAME + 8];
	const char *base = strrchr(label, '/');
	snprintf(dname, sizeof dname, "%s", base ? base + 1 : label);
	size_t dl = strlen(dname);
	if (dl > 5 && strcmp(dname + dl - 5, ".json") == 0)
		dname[dl - 5] = '\0';
	bool ok = parse_root(&c, root, dname, p);
	json_object_put(root);
	if (!ok) {
		emu_profile_free(p);
		return NULL;
	}
	return p;
}

emu_profile *emu_desc_load(const char *path, bool *unreadable, char *err, size_t errsz)
{
	uint8_t *text;
	size_t len;
	char why[128];
	*unreadable = false;
	if (!read_file(path, MAX_FILE_BYTES, &text, &len, why, sizeof why)) {
		snprintf(err, errsz, "%s: cannot read: %s", path, why);
		*unreadable = true;
		return NULL;
	}
	char *dir = strdup(path);
	if (!dir) {
		free(text);
		snprintf(err, errsz, "%s: out of memory", path);
		return NULL;
	}
	char *slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		strcpy(dir, ".");
	emu_profile *p = emu_desc_parse((const char *)text, len, path, dir, err, errsz);
	free(dir);
	free(text);
	return p;
}

emu_profile *emu_profile_builtin(const char *name, char *err, size_t errsz)
{
	for (size_t i = 0; name && i < emu_nbuiltins; i++) {
		if (strcmp(emu_builtins[i].name, name) != 0)
			continue;
		char label[96];
		snprintf(label, sizeof label, "emu/devices/%s.json", emu_builtins[i].name);
		emu_profile *p =
		    emu_desc_parse((const char *)emu_builtins[i].text, emu_builtins[i].len, label, NULL, err, errsz);
		if (p && strcmp(p->name, name) != 0) {
			snprintf(err, errsz, "%s: name: \"%s\" is not the file's name", label, p->name);
			emu_profile_free(p);
			return NULL;
		}
		return p;
	}
	snprintf(err, errsz, "unknown profile '%s' (see --list-profiles)", name ? name : "");
	return NULL;
}

void emu_profiles_print(FILE *f)
{
	for (size_t i = 0; i < emu_nbuiltins; i++) {
		char err[256];
		emu_profile *p = emu_profile_builtin(emu_builtins[i].name, err, sizeof err);
		fprintf(f, "%-24s %s\n", emu_builtins[i].name, p ? (p->desc ? p->desc : "") : err);
		emu_profile_free(p);
	}
}

const char *emu_profile_name(const emu_profile *p)
{
	return p->name;
}

const char *emu_profile_busid(const emu_profile *p)
{
	return p->bus_path;
}

uint32_t emu_profile_devnum(const emu_profile *p)
{
	return p->devnum;
}

const char *emu_profile_serial(const emu_profile *p)
{
	return p->mode[0].serial.kind == EMU_STR_TEXT ? p->mode[0].serial.text : NULL;
}

uint64_t emu_profile_memsize(const emu_profile *p)
{
	return p->memsize;
}
