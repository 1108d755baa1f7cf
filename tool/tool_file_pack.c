/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* `dfukit pack`: build a DfuSe .dfu from raw binaries, Intel HEX, S-record
 * and ELF files, with dfuse-pack's option letters plus -e (ELF) and -n
 * (target names).
 *
 * One target per alt setting, in the order the alts first appear, so that
 * every input for an alt lands in one image and overlaps between files are
 * caught (dfuse-pack starts a new target at each change of alt instead). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tool_files.h"

static const char cmd[] = "pack";

static void usage(FILE *f)
{
	fprintf(f, "Usage: dfukit pack [-b ADDR[@ALT]:FILE]... [-i FILE.hex]... [-s FILE.srec]... [-e FILE.elf]...\n"
		   "                   [-D VID:PID] [-a ALT] [-n ALT:NAME]... OUT.dfu\n"
		   "Build a DfuSe (UM0391) file. Inputs for the same alt setting go into one target.\n"
		   "  -b, --build ADDR[@ALT]:FILE   raw binary at ADDR (0x.. hex or decimal), alt ALT\n"
		   "  -i, --build-ihex FILE         Intel HEX file, for the default alt\n"
		   "  -s, --build-s19 FILE          Motorola S-record file (S0 header names the target)\n"
		   "  -e, --build-elf FILE          ELF file: PT_LOAD segments at their physical addresses\n"
		   "  -D, --device VID:PID          suffix IDs in hex (default 0483:df11)\n"
		   "  -a, --alt-intf ALT            default alt setting (default 0)\n"
		   "  -n, --name ALT:NAME           name the target of alt ALT (up to 255 characters)\n"
		   "  -h, --help\n"
		   "OUT is replaced atomically; nothing is written when any input is bad.\n"
		   "Exit: 0 ok, 64 usage, 65 bad input data, 66 missing input, 73/74 cannot write.\n");
}

typedef struct pack_input {
	char kind; /* 'b', 'i', 's' or 'e' */
	const char *file;
	uint32_t addr;
	int alt; /* -1: the default alt */
} pack_input;

typedef struct pack_state {
	dfk_firmware fw;
	dfk_blob *blobs; /* raw binaries are referenced, not copied */
	size_t nblobs;
	const char *names[256];
	bool s0_named[256];
} pack_state;

static size_t target_for(pack_state *ps, uint8_t alt, dfk_error *err, bool *ok)
{
	for (size_t i = 0; i < ps->fw.ntargets; i++)
		if (ps->fw.targets[i].alt == alt)
			return i;
	*ok = dfk_firmware_add_target(&ps->fw, alt, ps->names[alt], err) != NULL;
	return ps->fw.ntargets - 1;
}

/* Moves the parsed elements of tmp into img (ownership included). */
static dfk_code move_image(dfk_image *img, dfk_image *tmp, dfk_error *err)
{
	dfk_code rc = DFK_OK;

	for (size_t i = 0; i < tmp->count; i++) {
		dfk_element e = tmp->elements[i];

		tmp->elements[i].data = NULL;
		tmp->elements[i].borrowed = true;
		rc = e.borrowed ? dfk_image_add_ref(img, e.addr, e.data, e.size, err)
				: dfk_image_add_owned(img, e.addr, e.data, e.size, err);
		if (rc != DFK_OK)
			break;
	}
	dfk_image_free(tmp);
	return rc;
}

static dfk_code add_input(pack_state *ps, const pack_input *in, uint8_t alt, dfk_error *err)
{
	dfk_blob blob;
	dfk_image tmp;
	char s0[256] = "";
	bool ok = true;
	size_t t;
	dfk_code rc;

	t = target_for(ps, alt, err, &ok);
	if (!ok)
		return err->code;
	rc = dfk_blob_read(in->file, &blob, err);
	if (rc != DFK_OK)
		return rc;
	if (in->kind == 'b') {
		dfk_blob *nb = realloc(ps->blobs, (ps->nblobs + 1) * sizeof(*nb));
		if (!nb) {
			dfk_blob_free(&blob);
			return dfk_error_set(err, DFK_ERR_NOMEM, "out of memory");
		}
		ps->blobs = nb;
		ps->blobs[ps->nblobs++] = blob;
		if (blob.len == 0)
			return dfk_error_set(err, DFK_ERR_DATA, "%s: file is empty", in->file);
		/* As dfuse-pack: a suffix in a raw input is almost surely a mistake. */
		if (dfk_suffix_present(blob.data, blob.len) &&
		    dfk_suffix_parse(blob.data, blob.len, NULL, NULL) == DFK_OK)
			return dfk_error_set(err, DFK_ERR_DATA,
					     "%s: offset %zu: the file carries a DFU suffix; remove it first "
					     "(dfukit suffix -D)",
					     in->file, blob.len - DFK_SUFFIX_LEN);
		rc = dfk_image_add_ref(&ps->fw.targets[t].image, in->addr, blob.data, blob.len, err);
		if (rc != DFK_OK)
			dfk_error_prefix(err, "%s at 0x%08X (alt %u)", in->file, in->addr, alt);
		return rc;
	}
	dfk_image_init(&tmp);
	if (blob.len == 0)
		rc = dfk_error_set(err, DFK_ERR_DATA, "file is empty");
	else if (in->kind == 'i')
		rc = dfk_ihex_parse(blob.data, blob.len, &tmp, err);
	else if (in->kind == 's')
		rc = dfk_srec_parse(blob.data, blob.len, &tmp, s0, err);
	else
		rc = dfk_elf_parse(blob.data, blob.len, &tmp, err);
	dfk_blob_free(&blob);
	if (rc != DFK_OK) {
		dfk_image_free(&tmp);
		return dfk_error_prefix(err, "%s", in->file);
	}
	rc = move_image(&ps->fw.targets[t].image, &tmp, err);
	if (rc != DFK_OK)
		return dfk_error_prefix(err, "%s (alt %u)", in->file, alt);
	if (s0[0] && !ps->names[alt] && !ps->s0_named[alt]) {
		/* The S0 header names the target, as in dfuse-pack, unless -n did. */
		dfk_target *tg = &ps->fw.targets[t];
		tg->named = true;
		snprintf(tg->name, sizeof(tg->name), "%s", s0);
		ps->s0_named[alt] = true;
	}
	return DFK_OK;
}

static bool parse_build(const char *arg, pack_input *in)
{
	const char *colon = strchr(arg, ':'), *at;
	char num[64];
	uint32_t alt;
	size_t n;

	if (!colon || !colon[1])
		return false;
	in->file = colon + 1;
	in->alt = -1;
	at = memchr(arg, '@', (size_t)(colon - arg));
	n = (size_t)((at ? at : colon) - arg);
	if (n == 0 || n >= sizeof(num))
		return false;
	memcpy(num, arg, n);
	num[n] = '\0';
	if (!tf_parse_u32(num, 0, &in->addr))
		return false;
	if (at) {
		n = (size_t)(colon - at - 1);
		if (n == 0 || n >= sizeof(num))
			return false;
		memcpy(num, at + 1, n);
		num[n] = '\0';
		if (!tf_parse_u32(num, 10, &alt) || alt > 255)
			return false;
		in->alt = (int)alt;
	}
	return true;
}

int tool_file_pack(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"build", required_argument, NULL, 'b'},
	    {"build-ihex", required_argument, NULL, 'i'},
	    {"build-s19", required_argument, NULL, 's'},
	    {"build-srec", required_argument, NULL, 's'},
	    {"build-elf", required_argument, NULL, 'e'},
	    {"device", required_argument, NULL, 'D'},
	    {"alt-intf", required_argument, NULL, 'a'},
	    {"name", required_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	pack_state ps;
	pack_input *inputs;
	size_t ninputs = 0;
	uint16_t vid = 0x0483, pid = 0xdf11;
	uint32_t default_alt = 0, alt;
	const char *outpath;
	dfk_error err = {0};
	dfk_out *out = NULL;
	int c, ret = 0;

	memset(&ps, 0, sizeof(ps));
	dfk_firmware_init(&ps.fw);
	inputs = calloc((size_t)argc + 1, sizeof(*inputs));
	if (!inputs)
		return 70;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hb:i:s:e:D:a:n:", opts, NULL)) != -1) {
		pack_input *in = &inputs[ninputs];
		const char *colon;

		switch (c) {
		case 'h': usage(stdout); goto done;
		case 'b':
			in->kind = 'b';
			if (!parse_build(optarg, in)) {
				ret = tf_usage(cmd, "-b needs ADDR[@ALT]:FILE (ALT 0..255), not '%s'", optarg);
				goto done;
			}
			ninputs++;
			break;
		case 'i':
		case 's':
		case 'e':
			in->kind = (char)c;
			in->file = optarg;
			in->alt = -1;
			ninputs++;
			break;
		case 'D':
			colon = strchr(optarg, ':');
			if (colon) {
				char v[16];
				size_t n = (size_t)(colon - optarg);
				if (n < sizeof(v)) {
					memcpy(v, optarg, n);
					v[n] = '\0';
				}
				if (n < sizeof(v) && tf_parse_u16_hex(v, &vid) && tf_parse_u16_hex(colon + 1, &pid))
					break;
			}
			ret = tf_usage(cmd, "-D needs VID:PID in hex (e.g. 0483:df11), not '%s'", optarg);
			goto done;
		case 'a':
			if (!tf_parse_u32(optarg, 10, &default_alt) || default_alt > 255) {
				ret = tf_usage(cmd, "-a needs an alt setting from 0 to 255, not '%s'", optarg);
				goto done;
			}
			break;
		case 'n':
			colon = strchr(optarg, ':');
			if (colon) {
				char v[8];
				size_t n = (size_t)(colon - optarg);
				if (n > 0 && n < sizeof(v)) {
					memcpy(v, optarg, n);
					v[n] = '\0';
					if (tf_parse_u32(v, 10, &alt) && alt <= 255) {
						if (strlen(colon + 1) > 255) {
							ret = tf_usage(
							    cmd, "-n %u: a target name has at most 255 characters",
							    alt);
							goto done;
						}
						ps.names[alt] = colon + 1;
						break;
					}
				}
			}
			ret = tf_usage(cmd, "-n needs ALT:NAME (ALT 0..255), not '%s'", optarg);
			goto done;
		case ':': ret = tf_usage(cmd, "option '%s' needs a value", argv[optind - 1]); goto done;
		default: ret = tf_usage(cmd, "unknown option '%s'", argv[optind - 1]); goto done;
		}
	}
	if (optind >= argc) {
		ret = tf_usage(cmd, "no output file given");
		goto done;
	}
	if (optind + 1 < argc) {
		ret = tf_usage(cmd, "only one output file, not '%s' too", argv[optind + 1]);
		goto done;
	}
	outpath = argv[optind];
	if (ninputs == 0) {
		ret = tf_usage(cmd, "no input: give -b, -i, -s or -e");
		goto done;
	}
	for (unsigned a = 0; a < 256; a++) {
		bool used = false;
		if (!ps.names[a])
			continue;
		for (size_t i = 0; i < ninputs; i++)
			used |= (inputs[i].alt < 0 ? (int)default_alt : inputs[i].alt) == (int)a;
		if (!used) {
			ret = tf_usage(cmd, "-n %u: no input goes to alt %u", a, a);
			goto done;
		}
	}

	for (size_t i = 0; i < ninputs; i++) {
		uint8_t a = (uint8_t)(inputs[i].alt < 0 ? default_alt : (uint32_t)inputs[i].alt);
		if (add_input(&ps, &inputs[i], a, &err) != DFK_OK) {
			ret = tf_fail(cmd, &err);
			goto done;
		}
	}
	ps.fw.format = DFK_FORMAT_DFUSE;
	ps.fw.addressed = true;
	if (dfk_out_open(&out, outpath, DFK_OUT_OVERWRITE, &err) != DFK_OK ||
	    dfk_dfuse_write(out, &ps.fw, vid, pid, 0xFFFF, &err) != DFK_OK) {
		dfk_out_abort(out);
		ret = tf_fail(cmd, &err);
		goto done;
	}
	if (dfk_out_commit(out, &err) != DFK_OK) {
		ret = tf_fail(cmd, &err);
		goto done;
	}
	{
		size_t nel = 0;
		for (size_t t = 0; t < ps.fw.ntargets; t++)
			nel += ps.fw.targets[t].image.count;
		printf("Wrote %s: %zu target(s), %zu element(s), %llu bytes of data, %04x:%04x\n", outpath,
		       ps.fw.ntargets, nel, (unsigned long long)dfk_firmware_bytes(&ps.fw), vid, pid);
	}
done:
	dfk_firmware_free(&ps.fw);
	for (size_t i = 0; i < ps.nblobs; i++)
		dfk_blob_free(&ps.blobs[i]);
	free(ps.blobs);
	free(inputs);
	return ret;
}
