/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* `dfukit capture [selection] -o FILE`: a connected device's descriptors,
 * strings and alt settings as a dfukit-emu device description
 * (doc/device-format.md), so that `dfukit-emu --device FILE` serves a double
 * of the user's own board.
 *
 * Read-only: standard GET_DESCRIPTOR requests (device, configuration with
 * its full wTotalLength, string 0 and every string index used) and, in DFU
 * mode, DFU GETSTATE (GETSTATUS only in dfuERROR, where it changes
 * nothing). Nothing is downloaded, uploaded, detached, cleared or aborted;
 * no alt setting is selected. What the format cannot express (a second
 * configuration, alt settings of other interfaces, descriptors before the
 * first interface, ...) is left out and said in the file's "description". */
#include <getopt.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tool.h"
#include "tool_capture.h"
#include "tool_flash.h"

static const char cmd[] = "capture";

enum { OPT_FORCE = 0x100, OPT_TIME_PAGE };

/* What the format bounds (doc/device-format.md, "Rules"). */
#define CAP_MAX_ALTS 32
#define CAP_MAX_INTFS 7 /* besides the DFU one */
#define CAP_MAX_EXTRA 512
#define CAP_MAX_MEMORY (256u << 20)
/* Plain DFU alt settings have no map: the size a double gets. */
#define CAP_DEFAULT_PAGES 256u
#define CAP_DEFAULT_PAGE_SIZE 1024u

static void usage(FILE *f)
{
	fprintf(f, "Usage: dfukit capture [selection] -o FILE [--force] [--time-page ADDR]\n"
		   "Describe the selected device for dfukit-emu --device FILE: identity, bus\n"
		   "position, interfaces, DFU functional descriptor and alt settings (their names\n"
		   "exactly, DfuSe memory layouts from the advertised maps). Only reads\n"
		   "descriptors (and the DFU state): nothing is written to the device, unless\n"
		   "--time-page is given.\n"
		   "  -o --output FILE              write the description here (- : standard output)\n"
		   "     --force                    replace an existing FILE\n"
		   "     --time-page ADDR           measure erase and programming times on the DfuSe\n"
		   "                                page at ADDR: it is ERASED, written back with\n"
		   "                                what it held and checked (the only writes)\n"
		   "  -d --device VID:PID[,VID:PID] select by IDs, as for -l (one device must match)\n"
		   "  -p --path BUS-PORT[.PORT...]  select by port path\n"
		   "  -n --devnum N                 select by device number\n"
		   "  -S --serial SERIAL[,DFU]      select by serial number\n"
		   "  -c --cfg N, -i --intf N       select by configuration, interface index\n"
		   "     --usbip HOST[:PORT]|unix:PATH  a USB/IP server (also $DFUKIT_USBIP)\n"
		   "     --usb-timeout MS           deadline for one control transfer (5000)\n"
		   "  -v --verbose                  say what is read\n"
		   "  -h --help                     this text\n"
		   "Exit: 0 ok, 64 usage, 73 cannot create FILE, 74 no device, several devices or\n"
		   "I/O error, 76 protocol error.\n");
}

typedef struct cap {
	tool_flash_opts o;
	const char *output;
	bool force;
	bool has_time_page;
	uint32_t time_page; /* --time-page */
	dfk_ctx *ctx;
	dfk_transport *t;
	dfk_usb *h;
	dfk_error err;
	unsigned timeout;
	uint16_t langid;
	char notes[2048]; /* what the description could not keep, "; "-separated */
} cap;

static void note(cap *c, const char *fmt, ...) DFK_PRINTF(2, 3);
static void note(cap *c, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (strstr(c->notes, buf))
		return;
	size_t n = strlen(c->notes);
	snprintf(c->notes + n, sizeof(c->notes) - n, "%s%s", n ? "; " : "", buf);
	if (c->o.verbose)
		fprintf(stderr, "%s %s: note: %s\n", tool_progname(), cmd, buf);
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s %s: ", tool_progname(), cmd);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (dfukit capture --help)\n");
	return 64;
}

static int parse(cap *c, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"output", required_argument, NULL, 'o'},
	    {"force", no_argument, NULL, OPT_FORCE},
	    {"time-page", required_argument, NULL, OPT_TIME_PAGE},
	    {"device", required_argument, NULL, 'd'},
	    {"path", required_argument, NULL, 'p'},
	    {"devnum", required_argument, NULL, 'n'},
	    {"serial", required_argument, NULL, 'S'},
	    {"cfg", required_argument, NULL, 'c'},
	    {"intf", required_argument, NULL, 'i'},
	    {"usbip", required_argument, NULL, TOOL_OPT_USBIP},
	    {"usb-timeout", required_argument, NULL, TOOL_OPT_USB_TIMEOUT},
	    {NULL, 0, NULL, 0},
	};
	tool_flash_opts *o = &c->o;
	dfk_match_init(&o->match);
	o->usb_timeout_ms = -1;
	const char *env_usbip = getenv("DFUKIT_USBIP");
	if (env_usbip && *env_usbip)
		o->usbip[o->nusbip++] = env_usbip;
	bool usbip_given = false;
	int ch;
	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":hvo:d:p:n:S:c:i:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h': usage(stdout); return 0;
		case 'v': o->verbose++; break;
		case 'o':
			if (!*optarg)
				return usage_error("-o: empty file name%s", "");
			c->output = optarg;
			break;
		case OPT_FORCE: c->force = true; break;
		case OPT_TIME_PAGE: {
			uint64_t a;
			if (!tool_parse_u64(optarg, UINT32_MAX, &a))
				return usage_error("--time-page: invalid address \"%s\"", optarg);
			c->has_time_page = true;
			c->time_page = (uint32_t)a;
			break;
		}
		case ':': return usage_error("option %s needs an argument", argv[optind - 1]);
		default: {
			char msg[DFK_ERROR_MSG_MAX + 64];
			int r = tool_selection_opt(o, ch, optarg, &usbip_given, msg, sizeof(msg));
			if (r == 0)
				break;
			if (r > 0)
				return usage_error("%s", msg);
			if (optopt && optopt < 0x100) {
				char opt[3] = {'-', (char)optopt, '\0'};
				return usage_error("unknown option %s", opt);
			}
			return usage_error("unknown option %s", argv[optind - 1]);
		}
		}
	}
	if (o->match_warning[0])
		fprintf(stderr, "%s %s: warning: %s\n", tool_progname(), cmd, o->match_warning);
	if (optind < argc)
		return usage_error("unexpected argument \"%s\"", argv[optind]);
	if (!c->output)
		return usage_error("no output file: give -o FILE (- for standard output)%s", "");
	return -1;
}

/* ---- reading ---- */

/* GET_DESCRIPTOR; *len gets the bytes received. */
static dfk_code get_desc(cap *c, uint8_t type, uint8_t index, uint16_t windex, uint8_t *buf, uint16_t max, size_t *len)
{
	dfk_setup s = {0x80, 6, (uint16_t)(type << 8 | index), windex, max};
	*len = 0;
	return dfk_usb_control(c->h, &s, buf, len, c->timeout, &c->err);
}

/* A USB string as the format takes it: text when the descriptor is exactly
 * well-formed UTF-16LE the emulator would send back byte for byte, else the
 * raw bytes. */
static json_object *usb_string(cap *c, uint8_t index, const char *what)
{
	if (index == 0)
		return NULL; /* json null */
	uint8_t buf[255];
	size_t len;
	dfk_error_clear(&c->err);
	dfk_code rc = get_desc(c, 3, index, c->langid, buf, sizeof(buf), &len);
	if (rc == DFK_ERR_NODEV || rc == DFK_ERR_CANCELLED)
		return NULL;
	if (rc || len < 2) {
		note(c, "%s (string %u) could not be read (%s): left out", what, index,
		     rc ? c->err.msg : "shorter than 2 bytes");
		dfk_error_clear(&c->err);
		return NULL;
	}
	/* Exact: bLength the bytes sent, whole code units, no NUL, surrogates
	 * paired; then the library's decoding is what the emulator re-encodes. */
	bool ok = buf[0] == len && buf[1] == 3 && len % 2 == 0;
	for (size_t i = 2; ok && i < len; i += 2) {
		uint32_t u = (uint32_t)buf[i] | (uint32_t)buf[i + 1] << 8;
		if (u >= 0xD800 && u < 0xDC00) {
			uint32_t lo = i + 3 < len ? ((uint32_t)buf[i + 2] | (uint32_t)buf[i + 3] << 8) : 0;
			ok = lo >= 0xDC00 && lo < 0xE000;
			i += 2;
		} else {
			ok = u != 0 && !(u >= 0xDC00 && u < 0xE000);
		}
	}
	char text[4 * 127 + 1];
	dfk_error derr;
	if (ok && dfk_string_desc_decode(buf, len, text, sizeof(text), &derr))
		ok = false;
	/* ASCII sent as bytes (no UTF-16) can be valid UTF-16 by chance ("BB"
	 * as U+4242): every unit two printable ASCII bytes or one and a 0,
	 * some the former. Kept as the bytes, which say what happened. */
	bool ascii_pairs = ok, some_high = false;
	for (size_t i = 2; ascii_pairs && i < len; i += 2) {
		bool lo = buf[i] >= 0x20 && buf[i] < 0x7F, hi = buf[i + 1] >= 0x20 && buf[i + 1] < 0x7F;
		ascii_pairs = lo && (hi || buf[i + 1] == 0);
		some_high = some_high || hi;
	}
	if (ok && !(ascii_pairs && some_high))
		return json_object_new_string(text);
	if (ok)
		note(c, "%s looks like ASCII sent without UTF-16: kept as bytes", what);
	char hex[255 * 3 + 1];
	size_t h = 0;
	for (size_t i = 0; i < len; i++)
		h += (size_t)snprintf(hex + h, sizeof(hex) - h, "%s%02x", i ? " " : "", buf[i]);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "bytes", json_object_new_string(hex));
	return o;
}

/* ---- building the description ---- */

/* "0x" and the value in `digits` upper-case hex digits. */
static json_object *hexn(uint32_t v, int digits)
{
	char buf[12];
	snprintf(buf, sizeof(buf), "0x%0*X", digits, (unsigned)v);
	return json_object_new_string(buf);
}

static void add(json_object *o, const char *key, json_object *v)
{
	json_object_object_add(o, key, v);
}

static void add_int(json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

/* One interface descriptor of the configuration and what follows it up to
 * the next interface descriptor. */
typedef struct intf_ref {
	const uint8_t *d; /* the 9-byte interface descriptor */
	const uint8_t *extra;
	size_t extra_len;
} intf_ref;

/* The functional descriptor as the format writes it. */
static json_object *functional(const uint8_t *f, const char *placement, cap *c)
{
	json_object *o = json_object_new_object();
	uint8_t len = f[0];
	if (len != 7 && len != 9)
		note(c, "the DFU functional descriptor has bLength %u: written as %u", len, len < 9 ? 7 : 9);
	add_int(o, "length", len < 9 ? 7 : 9);
	uint8_t attrs = f[2];
	if (attrs & 0xF0) {
		add_int(o, "attributes", attrs);
	} else {
		static const char *const bits[] = {"can_download", "can_upload", "manifestation_tolerant",
						   "will_detach"};
		json_object *a = json_object_new_array();
		for (int b = 0; b < 4; b++)
			if (attrs & (1u << b))
				json_object_array_add(a, json_object_new_string(bits[b]));
		add(o, "attributes", a);
	}
	add_int(o, "detach_timeout", f[3] | f[4] << 8);
	add_int(o, "transfer_size", f[5] | f[6] << 8);
	if (len >= 9)
		add(o, "dfu_version", hexn((unsigned)(f[7] | f[8] << 8), 4));
	if (placement)
		add(o, "placement", json_object_new_string(placement));
	return o;
}

/* The device descriptor's identity and the configuration's attributes. */
static json_object *device_object(cap *c, const uint8_t *dd, size_t ddlen, const uint8_t *cfg)
{
	json_object *o = json_object_new_object();
	if (ddlen < 18 || dd[0] != 18)
		note(c, "the device descriptor has bLength %u (%zu bytes sent): written as 18 bytes", dd[0], ddlen);
	add(o, "vid", hexn((unsigned)(dd[8] | dd[9] << 8), 4));
	add(o, "pid", hexn((unsigned)(dd[10] | dd[11] << 8), 4));
	add(o, "bcd_device", hexn((unsigned)(dd[12] | dd[13] << 8), 4));
	add(o, "bcd_usb", hexn((unsigned)(dd[2] | dd[3] << 8), 4));
	add(o, "device_class", hexn(dd[4], 2));
	add_int(o, "device_subclass", dd[5]);
	add_int(o, "device_protocol", dd[6]);
	unsigned mps = dd[7];
	if (mps != 8 && mps != 16 && mps != 32 && mps != 64) {
		note(c, "bMaxPacketSize0 %u is not a full-speed size: written as 64", mps);
		mps = 64;
	}
	add_int(o, "max_packet_size", mps);
	add(o, "manufacturer", usb_string(c, dd[14], "the manufacturer"));
	add(o, "product", usb_string(c, dd[15], "the product"));
	add(o, "serial", usb_string(c, dd[16], "the serial number"));
	add(o, "config_attributes", hexn(cfg[7], 2));
	add_int(o, "max_power_ma", cfg[8] * 2);
	return o;
}

/* The language IDs (string 0): [] when the device has none. */
static json_object *langids(cap *c)
{
	uint8_t buf[255];
	size_t len;
	json_object *a = json_object_new_array();
	dfk_error_clear(&c->err);
	dfk_code rc = get_desc(c, 3, 0, 0, buf, sizeof(buf), &len);
	if (rc == DFK_ERR_STALL) {
		dfk_error_clear(&c->err);
		return a;
	}
	if (rc || len < 2 || buf[1] != 3 || buf[0] != len || len % 2) {
		note(c, "string descriptor 0 (the language IDs) is not well-formed: [0x0409] written");
		dfk_error_clear(&c->err);
		json_object_array_add(a, hexn(0x0409, 4));
		c->langid = 0x0409;
		return a;
	}
	for (size_t i = 2; i + 1 < len && i < 2 + 2 * 16; i += 2)
		json_object_array_add(a, hexn((unsigned)(buf[i] | buf[i + 1] << 8), 4));
	if (len >= 4)
		c->langid = (uint16_t)(buf[2] | buf[3] << 8);
	return a;
}

/* The map grammar dfukit-emu takes a memory from (emu_desc.c: "@Name/0xADDR/
 * COUNT*SIZE[K|M|B| ]TYPE,..." in one or more /-blocks, nothing after). */
static bool strict_map(const char *s)
{
	if (s[0] != '@' || !(s = strchr(s, '/')))
		return false;
	int nsegs = 0;
	while (*s == '/') {
		s++;
		if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
			return false;
		s += 2;
		size_t digits = strspn(s, "0123456789abcdefABCDEF");
		if (digits == 0 || digits > 8 || s[digits] != '/')
			return false;
		s += digits + 1;
		for (;;) {
			size_t d1 = strspn(s, "0123456789");
			if (d1 == 0 || d1 > 9 || s[d1] != '*')
				return false;
			s += d1 + 1;
			size_t d2 = strspn(s, "0123456789");
			if (d2 == 0 || d2 > 9)
				return false;
			s += d2;
			if (*s == 'K' || *s == 'M' || *s == 'B' || *s == ' ')
				s++;
			if (*s < 'a' || *s > 'g')
				return false;
			s++;
			nsegs++;
			if (*s != ',')
				break;
			s++;
		}
	}
	return *s == '\0' && nsegs > 0 && nsegs <= 16;
}

static json_object *segment(bool dfuse, uint32_t addr, uint32_t pages, uint32_t page_size, uint8_t perms)
{
	json_object *s = json_object_new_object();
	if (dfuse)
		add(s, "address", hexn(addr, 8));
	add_int(s, "pages", pages);
	add_int(s, "page_size", page_size);
	if (perms) {
		char r[4];
		size_t n = 0;
		if (perms & DFK_MEM_READABLE)
			r[n++] = 'r';
		if (perms & DFK_MEM_WRITEABLE)
			r[n++] = 'w';
		if (perms & DFK_MEM_ERASABLE)
			r[n++] = 'e';
		r[n] = '\0';
		add(s, "rights", json_object_new_string(r));
	}
	return s;
}

/* One DFU-mode alt setting: its name and, where the name does not give it,
 * its memory. *memsize accumulates the memories' sizes. */
static json_object *alt_object(cap *c, bool dfuse, unsigned alt, uint8_t istr, uint64_t *memsize)
{
	json_object *o = json_object_new_object();
	char what[40];
	snprintf(what, sizeof(what), "the name of alt setting %u", alt);
	json_object *name = usb_string(c, istr, what);
	const char *text = name && json_object_is_type(name, json_type_string) ? json_object_get_string(name) : NULL;
	add(o, "name", name);
	dfk_memmap map;
	memset(&map, 0, sizeof(map));
	dfk_error e;
	bool parsed = text && text[0] == '@' && dfk_memmap_parse(text, &map, &e) == DFK_OK && map.count > 0;
	uint64_t size = 0;
	for (size_t i = 0; parsed && i < map.count; i++)
		size += map.segs[i].end - map.segs[i].start;
	if (dfuse && parsed) {
		/* ST's names for option bytes and OTP areas (a guess, said so). */
		if (strncmp(text, "@Option Bytes", 13) == 0 || strncmp(text, "@OTP", 4) == 0) {
			add(o, "kind", json_object_new_string(text[1] == 'O' && text[2] == 'p' ? "option" : "otp"));
			note(c, "the kinds of memory (option, otp) are guessed from the names");
		}
		if (!strict_map(text) || map.count > 16) {
			/* The library reads the map; the emulator's stricter grammar
			 * would not: the segments explicitly. */
			json_object *m = json_object_new_array();
			for (size_t i = 0; i < map.count && i < 16; i++)
				json_object_array_add(m, segment(true, map.segs[i].start, map.segs[i].pages,
								 map.segs[i].page_size, map.segs[i].perms));
			add(o, "memory", m);
			if (map.count > 16)
				note(c, "alt setting %u: only the first 16 segments of its map are kept", alt);
		}
	} else if (dfuse) {
		note(c, "alt setting %u: the name is no DfuSe memory map, its memory (%u KiB at 0x08000000) is assumed",
		     alt, CAP_DEFAULT_PAGES * CAP_DEFAULT_PAGE_SIZE / 1024);
		json_object *m = json_object_new_array();
		json_object_array_add(m, segment(true, 0x08000000u, CAP_DEFAULT_PAGES, CAP_DEFAULT_PAGE_SIZE, 0));
		add(o, "memory", m);
		size = (uint64_t)CAP_DEFAULT_PAGES * CAP_DEFAULT_PAGE_SIZE;
	} else {
		/* Plain DFU: a map in the name gives the size, when its pages are
		 * all of one size; otherwise it is assumed. */
		uint32_t page = parsed ? map.segs[0].page_size : 0;
		for (size_t i = 0; parsed && i < map.count; i++)
			if (map.segs[i].page_size != page)
				page = 0;
		json_object *m = json_object_new_array();
		if (page && size <= CAP_MAX_MEMORY) {
			json_object_array_add(m, segment(false, 0, (uint32_t)(size / page), page, 0));
			note(c, "alt setting %u: memory size taken from the map in its name", alt);
		} else {
			json_object_array_add(m, segment(false, 0, CAP_DEFAULT_PAGES, CAP_DEFAULT_PAGE_SIZE, 0));
			size = (uint64_t)CAP_DEFAULT_PAGES * CAP_DEFAULT_PAGE_SIZE;
			note(c, "plain DFU memory sizes are assumed (%u KiB in pages of %u bytes)",
			     CAP_DEFAULT_PAGES * CAP_DEFAULT_PAGE_SIZE / 1024, CAP_DEFAULT_PAGE_SIZE);
		}
		add(o, "memory", m);
	}
	dfk_memmap_free(&map);
	*memsize += size;
	return o;
}

/* The hex of a descriptor chain, one group per descriptor. */
static json_object *chain_hex(const uint8_t *p, size_t len)
{
	char *s = malloc(len * 3 + len + 1);
	if (!s)
		return NULL;
	size_t n = 0, next = 0;
	for (size_t i = 0; i < len; i++) {
		if (i)
			s[n++] = ' ';
		if (i && i == next)
			s[n++] = ' ';
		if (i == next)
			next = i + (p[i] ? p[i] : 1);
		n += (size_t)sprintf(s + n, "%02x", p[i]);
	}
	s[n] = '\0';
	json_object *o = json_object_new_string(s);
	free(s);
	return o;
}

/* The configuration of the interface ifc, read whole. */
static dfk_code read_config(cap *c, const dfk_dfu_if *ifc, uint8_t **out, size_t *outlen)
{
	uint8_t hdr[9];
	size_t len;
	unsigned n = ifc->dev->desc.bNumConfigurations ? ifc->dev->desc.bNumConfigurations : 1;
	for (unsigned idx = 0; idx < n; idx++) {
		dfk_code rc = get_desc(c, 2, (uint8_t)idx, 0, hdr, sizeof(hdr), &len);
		if (rc)
			return dfk_error_prefix(&c->err, "reading configuration descriptor %u", idx);
		if (len < 9 || hdr[1] != 2)
			return dfk_error_set(&c->err, DFK_ERR_PROTOCOL,
					     "configuration descriptor %u: %zu bytes, type %u (not a configuration)",
					     idx, len, len > 1 ? hdr[1] : 0);
		if (hdr[5] != ifc->config)
			continue;
		if (n > 1)
			note(c, "the device has %u configurations: only the DFU one (%u) is kept", n, ifc->config);
		uint16_t total = (uint16_t)(hdr[2] | hdr[3] << 8);
		if (total < 9)
			return dfk_error_set(&c->err, DFK_ERR_PROTOCOL,
					     "configuration descriptor %u: wTotalLength %u is shorter than 9", idx,
					     total);
		uint8_t *buf = malloc(total);
		if (!buf)
			return dfk_error_set(&c->err, DFK_ERR_NOMEM, "out of memory");
		rc = get_desc(c, 2, (uint8_t)idx, 0, buf, total, &len);
		if (rc) {
			free(buf);
			return dfk_error_prefix(&c->err, "reading configuration descriptor %u (%u bytes)", idx, total);
		}
		if (len < total)
			note(c, "the configuration says wTotalLength %u and sends %zu bytes", total, len);
		*out = buf;
		*outlen = len;
		return DFK_OK;
	}
	return dfk_error_set(&c->err, DFK_ERR_PROTOCOL, "no configuration descriptor has bConfigurationValue %u",
			     ifc->config);
}

/* The DFU state, in DFU mode: power_on when it is not dfuIDLE/OK (a loader
 * that starts in dfuERROR, as the STM32F4 ROM does). NULL: nothing to say. */
static json_object *power_on(cap *c, uint8_t intf, bool runtime)
{
	json_object *o = NULL;
	if (runtime) {
		o = json_object_new_object();
		add(o, "mode", json_object_new_string("runtime"));
		return o;
	}
	uint8_t st[6];
	size_t len = 0;
	dfk_setup s = {0xA1, DFK_REQ_GETSTATE, 0, intf, 1};
	dfk_error_clear(&c->err);
	if (dfk_usb_control(c->h, &s, st, &len, c->timeout, &c->err) || len < 1) {
		note(c, "the DFU state could not be read: dfuIDLE assumed");
		dfk_error_clear(&c->err);
		return NULL;
	}
	uint8_t state = st[0], status = 0;
	if (state == DFK_STATE_ERROR) {
		/* GETSTATUS in dfuERROR changes nothing; only it gives the status. */
		dfk_setup gs = {0xA1, DFK_REQ_GETSTATUS, 0, intf, 6};
		len = 0;
		if (dfk_usb_control(c->h, &gs, st, &len, c->timeout, &c->err) == DFK_OK && len >= 6)
			status = st[0];
		dfk_error_clear(&c->err);
	}
	if (state == DFK_STATE_IDLE && status == 0)
		return NULL;
	if (state < DFK_STATE_IDLE || state > DFK_STATE_ERROR) {
		note(c, "the device reported DFU state %u in DFU mode: dfuIDLE assumed", state);
		return NULL;
	}
	o = json_object_new_object();
	add(o, "state", json_object_new_string(dfk_state_name(state)));
	add(o, "status", json_object_new_string(dfk_status_name(status)));
	note(c, "power_on is the state found at capture (%s, %s)", dfk_state_name(state), dfk_status_name(status));
	return o;
}

/* A USB port path as the format takes it: BUS-PORT[.PORT]..., bus 1..127,
 * ports 1..255, at most 7 deep. */
static bool bus_path_ok(const char *t)
{
	char *end;
	int depth = 0;
	bool ok = t[0] >= '1' && t[0] <= '9';
	unsigned long bus = ok ? strtoul(t, &end, 10) : 0;
	ok = ok && bus <= 127 && *end == '-';
	while (ok) {
		const char *q = end + 1;
		ok = *q >= '1' && *q <= '9';
		unsigned long port = ok ? strtoul(q, &end, 10) : 0;
		ok = ok && port <= 255 && ++depth <= 7;
		if (!ok || *end == '\0')
			break;
		ok = *end == '.';
	}
	return ok && strlen(t) < 32;
}

/* The whole description of the device whose DFU interface is ifc. */
static dfk_code describe(cap *c, const dfk_dfu_if *ifc, json_object **out)
{
	const dfk_usb_dev *ud = ifc->dev;
	bool runtime = !ifc->dfu_mode;
	uint8_t dd[18];
	size_t ddlen;
	memset(dd, 0, sizeof(dd));
	dfk_code rc = get_desc(c, 1, 0, 0, dd, sizeof(dd), &ddlen);
	if (rc)
		return dfk_error_prefix(&c->err, "reading the device descriptor");
	if (ddlen < 18)
		return dfk_error_set(&c->err, DFK_ERR_PROTOCOL, "the device descriptor is %zu bytes, not 18", ddlen);
	uint8_t *cfg = NULL;
	size_t cfglen = 0;
	rc = read_config(c, ifc, &cfg, &cfglen);
	if (rc)
		return rc;

	/* The interfaces, in descriptor order. */
	intf_ref refs[64];
	size_t nrefs = 0;
	bool before_first = false, truncated = false;
	size_t i = cfg[0] >= 9 && cfg[0] <= cfglen ? cfg[0] : 9;
	while (i + 2 <= cfglen) {
		uint8_t l = cfg[i];
		if (l < 2 || i + l > cfglen) {
			truncated = true;
			break;
		}
		if (cfg[i + 1] == 4 && l >= 9) {
			if (nrefs == sizeof(refs) / sizeof(refs[0])) {
				truncated = true;
				break;
			}
			refs[nrefs++] = (intf_ref){cfg + i, cfg + i + l, 0};
		} else if (nrefs) {
			refs[nrefs - 1].extra_len += l;
		} else {
			before_first = true;
		}
		i += l;
	}
	if (truncated)
		note(c, "the configuration descriptor is not a well-formed chain after byte %zu: the rest is left out",
		     i);
	if (before_first)
		note(c, "descriptors before the first interface (interface associations) are left out");

	json_object *sources = json_object_new_array();
	json_object *mode = json_object_new_object();
	json_object *langs = langids(c);

	/* Other interfaces (alt setting 0 each) and the DFU one's alts. */
	json_object *intfs = json_object_new_array();
	json_object *alts = json_object_new_array();
	size_t nothers = 0, nalts = 0, dfu_pos = 0;
	bool dfu_seen = false, numbers_ok = true;
	const uint8_t *func = NULL;
	size_t nfunc = 0, func_first = 0, func_last = 0;
	int last_num = -1;
	size_t position = 0;
	uint64_t memsize = 0;
	for (size_t k = 0; k < nrefs; k++) {
		const uint8_t *d = refs[k].d;
		bool is_dfu = d[2] == ifc->intf && d[5] == 0xFE && d[6] == 0x01;
		if (d[2] != last_num) {
			if (d[2] != position)
				numbers_ok = false;
			position++;
			last_num = d[2];
			if (is_dfu) {
				dfu_pos = position - 1;
				dfu_seen = true;
			}
		}
		if (is_dfu) {
			/* Functional descriptors after this alt; anything else is lost. */
			size_t nf_here = 0;
			for (size_t e = 0; e + 2 <= refs[k].extra_len;) {
				const uint8_t *x = refs[k].extra + e;
				if (x[1] == DFK_DESC_DFU_FUNCTIONAL && x[0] >= 7) {
					if (!func)
						func = x;
					nf_here++;
				} else {
					note(c, "descriptors of type 0x%02x after the DFU interface are left out",
					     x[1]);
				}
				e += x[0];
			}
			if (nf_here) {
				if (!nfunc)
					func_first = nalts;
				func_last = nalts;
				nfunc++;
			}
			if (runtime) {
				if (nalts == 0)
					add(mode, "interface_name",
					    usb_string(c, d[8], "the run-time interface's name"));
				else
					note(c, "run-time alt setting %u is left out (one is kept)", d[3]);
			} else if (nalts < CAP_MAX_ALTS) {
				if (d[3] != nalts)
					note(c, "alt settings are renumbered 0, 1, ... in descriptor order");
				json_object_array_add(alts, alt_object(c, ifc->dfuse, d[3], d[8], &memsize));
			} else {
				note(c, "alt settings past the 32nd are left out");
			}
			nalts++;
			continue;
		}
		if (d[3] != 0) {
			note(c, "alternate settings of interface %u other than 0 are left out", d[2]);
			continue;
		}
		if (nothers == CAP_MAX_INTFS) {
			note(c, "interfaces past the 7th besides the DFU one are left out");
			continue;
		}
		json_object *in = json_object_new_object();
		add_int(in, "class", d[5]);
		add_int(in, "subclass", d[6]);
		add_int(in, "protocol", d[7]);
		char what[48];
		snprintf(what, sizeof(what), "the name of interface %u", d[2]);
		add(in, "name", usb_string(c, d[8], what));
		size_t xl = refs[k].extra_len, neps = 0;
		for (size_t e = 0; e + 2 <= xl; e += refs[k].extra[e])
			neps += refs[k].extra[e + 1] == 5;
		if (xl > CAP_MAX_EXTRA || neps > 30)
			note(c, "the class and endpoint descriptors of interface %u (%zu bytes) are left out", d[2],
			     xl);
		else if (xl)
			add(in, "descriptors", chain_hex(refs[k].extra, xl));
		if (neps != d[4])
			note(c, "interface %u says %u endpoints and has %zu endpoint descriptors", d[2], d[4], neps);
		json_object_array_add(intfs, in);
		nothers++;
	}
	if (!numbers_ok)
		note(c, "interface numbers are not 0, 1, ... in descriptor order: the double numbers them so");
	if (!dfu_seen || nalts == 0) {
		free(cfg);
		json_object_put(sources);
		json_object_put(mode);
		json_object_put(langs);
		json_object_put(intfs);
		json_object_put(alts);
		return dfk_error_set(&c->err, DFK_ERR_PROTOCOL,
				     "the configuration holds no DFU interface %u (its descriptors changed?)",
				     ifc->intf);
	}
	if (dfu_pos > nothers)
		dfu_pos = nothers;

	const char *placement = "end";
	if (nfunc > 1 && nfunc == nalts)
		placement = "after-each-alt";
	else if (nfunc == 1 && func_first == 0 && nalts > 1)
		placement = "after-first-alt";
	else if (nfunc > 1 || (nfunc == 1 && func_last != nalts - 1))
		note(c, "the DFU functional descriptor's placement is not one the format knows: written at the end");
	uint8_t fbuf[9];
	if (func) {
		memset(fbuf, 0, sizeof(fbuf));
		memcpy(fbuf, func, func[0] < 9 ? func[0] : 9);
		if (func[0] < 9)
			fbuf[0] = func[0];
	} else {
		/* The library found the values (perhaps by a quirk): use them. */
		note(c,
		     "the configuration has no DFU functional descriptor: the values the library assumes are written");
		const dfk_func_desc *f = &ifc->func;
		uint8_t tmp[9] = {9,
				  DFK_DESC_DFU_FUNCTIONAL,
				  f->bmAttributes,
				  (uint8_t)f->wDetachTimeOut,
				  (uint8_t)(f->wDetachTimeOut >> 8),
				  (uint8_t)f->wTransferSize,
				  (uint8_t)(f->wTransferSize >> 8),
				  (uint8_t)f->bcdDFUVersion,
				  (uint8_t)(f->bcdDFUVersion >> 8)};
		memcpy(fbuf, tmp, sizeof(fbuf));
	}

	/* Identity. */
	json_object *dev = device_object(c, dd, ddlen, cfg);
	add(dev, "langids", langs);
	add(mode, "device", dev);
	if (nothers) {
		add(mode, "interfaces", intfs);
		add_int(mode, "dfu_interface", (int64_t)dfu_pos);
	} else {
		json_object_put(intfs);
	}
	add(mode, "functional", functional(fbuf, placement, c));

	/* sources, protocol, bus. */
	char path[64];
	const char *slash = strrchr(ud->path, '/');
	snprintf(path, sizeof(path), "%s", slash ? slash + 1 : ud->path);
	char date[32] = "an unknown date";
	time_t now = time(NULL);
	const char *sde = getenv("SOURCE_DATE_EPOCH"); /* reproducible output */
	if (sde && *sde) {
		uint64_t v;
		if (tool_parse_u64(sde, INT64_MAX, &v))
			now = (time_t)v;
	}
	struct tm tmv;
	if (gmtime_r(&now, &tmv))
		strftime(date, sizeof(date), "%Y-%m-%d", &tmv);
	char src[256], clean_path[64];
	tool_sanitize(ud->path, clean_path, sizeof(clean_path));
	snprintf(src, sizeof(src), "captured with dfukit capture %s on %s from %s", DFUKIT_VERSION, date, clean_path);
	json_object_array_add(sources, json_object_new_string(src));
	bool dfuse = ifc->dfuse;
	json_object *bus = json_object_new_object();
	if (bus_path_ok(path))
		add(bus, "path", json_object_new_string(path));
	else
		note(c, "the bus path \"%s\" is no USB port path: the double gets one assigned", clean_path);
	if (ud->devnum >= 1 && ud->devnum <= 127)
		add_int(bus, "devnum", ud->devnum);

	json_object *pwr = power_on(c, ifc->intf, runtime);
	if (memsize > CAP_MAX_MEMORY)
		note(c, "the memories add up to %llu MiB: dfukit-emu serves at most 256 MiB",
		     (unsigned long long)(memsize >> 20));

	/* A run-time capture: DFU mode is not seen without a DETACH, which
	 * capture never sends. Its description is an assumption. */
	json_object *dfu_mode = mode, *rt = NULL;
	if (runtime) {
		rt = mode;
		dfu_mode = json_object_new_object();
		json_object *d2 = NULL;
		json_object_deep_copy(dev, &d2, NULL);
		add(dfu_mode, "device", d2);
		add(dfu_mode, "functional", functional(fbuf, NULL, c));
		json_object *a = json_object_new_object();
		add(a, "name", NULL);
		json_object *m = json_object_new_array();
		json_object_array_add(m, segment(dfuse, 0x08000000u, CAP_DEFAULT_PAGES, CAP_DEFAULT_PAGE_SIZE, 0));
		add(a, "memory", m);
		json_object_array_add(alts, a);
		add(dfu_mode, "alts", alts);
	} else {
		add(mode, "alts", alts);
	}

	char descr[2600];
	char vp[16];
	snprintf(vp, sizeof(vp), "%04x:%04x", ud->desc.idVendor, ud->desc.idProduct);
	snprintf(descr, sizeof(descr), "%s %s captured in %s mode%s%s%s", dfuse ? "DfuSe device" : "DFU device", vp,
		 runtime ? "run-time" : "DFU",
		 runtime ? " (its DFU mode is NOT captured: the identity is the run-time one and one alt setting "
			   "with 256 KiB of memory is assumed; detach it and capture again for DFU mode)"
			 : "",
		 c->notes[0] ? "; " : "", c->notes);
	json_object *dstr = json_object_new_string(descr);

	/* In the order of doc/device-format.md's example. */
	json_object *ordered = json_object_new_object();
	add_int(ordered, "format", 1);
	add(ordered, "description", dstr);
	add(ordered, "sources", sources);
	add(ordered, "protocol", json_object_new_string(dfuse ? "dfuse" : "dfu"));
	add(ordered, "bus", bus);
	if (pwr)
		add(ordered, "power_on", pwr);
	add(ordered, "dfu_mode", dfu_mode);
	if (rt)
		add(ordered, "runtime", rt);
	free(cfg);
	*out = ordered;
	return DFK_OK;
}

/* ---- the command ---- */

static dfk_code pick_device(cap *c, const dfk_found *found, const dfk_dfu_if **ifc)
{
	/* Distinct devices (interfaces of one device share dev). */
	size_t distinct = 0;
	for (size_t i = 0; i < dfk_found_count(found); i++) {
		const dfk_usb_dev *d = dfk_found_get(found, i)->dev;
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = dfk_found_get(found, j)->dev == d;
		distinct += !seen;
	}
	if (distinct == 0)
		return dfk_error_set(&c->err, DFK_ERR_NODEV, "no DFU capable USB device found%s",
				     c->o.nusbip > 1 ? " on the USB/IP servers"
				     : c->o.nusbip   ? " on the USB/IP server"
						     : "");
	if (distinct > 1)
		return dfk_error_set(&c->err, DFK_ERR_AMBIGUOUS,
				     "%zu DFU capable USB devices match: capture takes one; select it with -S SERIAL, "
				     "-p PATH or -d ,VID:PID for a device in DFU mode (-d VID:PID alone also matches "
				     "every device in DFU mode, as in dfu-util) (see dfukit -l)",
				     distinct);
	/* Its DFU interface: the DFU-mode one if it has both. */
	*ifc = NULL;
	for (size_t i = 0; i < dfk_found_count(found); i++) {
		const dfk_dfu_if *f = dfk_found_get(found, i);
		if (!*ifc || (f->dfu_mode && !(*ifc)->dfu_mode))
			*ifc = f;
	}
	return DFK_OK;
}

static dfk_code run(cap *c, json_object **doc, char *where, size_t wsz)
{
	flash_run r;
	memset(&r, 0, sizeof(r));
	r.o = &c->o;
	r.ctx = c->ctx;
	dfk_code rc = tool_flash_open_transport(&r);
	c->t = r.t;
	if (rc) {
		c->err = r.err;
		return rc;
	}
	dfk_found *found = NULL;
	rc = dfk_find(c->ctx, c->t, &c->o.match, &found, &c->err);
	const dfk_dfu_if *ifc = NULL;
	if (rc == DFK_OK)
		rc = pick_device(c, found, &ifc);
	if (rc == DFK_OK) {
		tool_sanitize(ifc->dev->path, where, wsz);
		if (c->o.verbose)
			fprintf(stderr, "%s %s: reading [%04x:%04x] path=\"%s\" (%s mode)\n", tool_progname(), cmd,
				ifc->dev->desc.idVendor, ifc->dev->desc.idProduct, where,
				ifc->dfu_mode ? "DFU" : "run-time");
		rc = dfk_usb_open(c->t, ifc->dev, &c->h, &c->err);
		if (rc == DFK_OK) {
			rc = describe(c, ifc, doc);
			dfk_usb_close(c->h);
			c->h = NULL;
		}
	}
	if (rc == DFK_OK && c->has_time_page) {
		char what[400] = "";
		rc = tool_capture_time_page(c->ctx, found, ifc, c->time_page, *doc, what, sizeof(what), &c->err);
		if (rc == DFK_OK) {
			/* said in the description too */
			json_object *d = json_object_object_get(*doc, "description");
			char text[3200];
			snprintf(text, sizeof(text), "%s; %s", json_object_get_string(d), what);
			json_object_object_add(*doc, "description", json_object_new_string(text));
		}
	}
	dfk_found_free(found);
	return rc;
}

int tool_capture_main(int argc, char **argv)
{
	cap *c = calloc(1, sizeof(*c));
	if (!c) {
		fprintf(stderr, "%s %s: out of memory\n", tool_progname(), cmd);
		return 70;
	}
	int ex = parse(c, argc, argv);
	if (ex >= 0) {
		free(c);
		return ex;
	}
	dfk_error_clear(&c->err);
	dfk_out *out = NULL;
	json_object *doc = NULL;
	char where[64] = "";
	/* The output first: a file that cannot be written fails before any
	 * device is touched (and nothing is left behind: dfk_out writes a
	 * temporary file beside it and renames it at the end). */
	dfk_code rc = dfk_out_open(&out, c->output, DFK_OUT_SYNC | (c->force ? DFK_OUT_OVERWRITE : 0u), &c->err);
	if (rc == DFK_ERR_EXISTS)
		dfk_error_prefix(&c->err, "-o (--force replaces it)");
	if (rc == DFK_OK)
		rc = dfk_ctx_new(&c->ctx, &c->err);
	if (rc == DFK_OK) {
		if (c->o.usb_timeout_ms > 0)
			dfk_ctx_set_timeout(c->ctx, DFK_TIMEOUT_USB, (unsigned)c->o.usb_timeout_ms, NULL);
		c->timeout = dfk_ctx_timeout(c->ctx, DFK_TIMEOUT_USB);
		c->langid = 0x0409;
		tool_signal_install(c->ctx);
		rc = run(c, &doc, where, sizeof(where));
	}
	if (rc == DFK_OK) {
		const char *text = json_object_to_json_string_ext(
		    doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
		rc = dfk_out_write(out, text, strlen(text), &c->err);
		if (rc == DFK_OK)
			rc = dfk_out_write(out, "\n", 1, &c->err);
		if (rc == DFK_OK) {
			rc = dfk_out_commit(out, &c->err);
			out = NULL;
		}
	}
	if (out)
		dfk_out_abort(out);
	json_object_put(doc);
	if (c->t)
		dfk_transport_free(c->t);
	tool_signal_install(NULL);
	dfk_ctx_free(c->ctx);
	ex = tool_exit_status(rc);
	if (rc) {
		char clean[DFK_ERROR_MSG_MAX];
		tool_sanitize(c->err.msg[0] ? c->err.msg : "failed", clean, sizeof(clean));
		fprintf(stderr, "%s %s: %s\n", tool_progname(), cmd, clean);
	} else if (strcmp(c->output, "-") != 0) {
		fprintf(stderr, "%s %s: device at path \"%s\" described in %s\n", tool_progname(), cmd, where,
			c->output);
	}
	free(c);
	return ex;
}
