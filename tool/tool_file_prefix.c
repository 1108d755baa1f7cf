/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* `dfukit prefix`: dfu-prefix's options and meaning (TI Stellaris and NXP
 * LPC prefixes). A DFU suffix already on the file stays last and gets its
 * CRC recomputed. Differences from dfu-prefix: the rewrite is atomic,
 * `--lpc-prefix` works (dfu-prefix only knows `--LPC`, also accepted), an
 * address that is not a multiple of 1 KiB is refused rather than rounded
 * down, and --check exits 65 when there is no prefix. */
#include <getopt.h>
#include <string.h>

#include "tool_files.h"

static const char cmd[] = "prefix";

static void usage(FILE *f)
{
	fprintf(f, "Usage: dfukit prefix (-c|-a|-D) FILE [options]\n"
		   "Check, add or delete a vendor DFU prefix at the start of FILE.\n"
		   "  -c, --check FILE               print the prefix; exit 0 only if there is one\n"
		   "  -a, --add FILE                 add a prefix (needs -s or -L)\n"
		   "  -D, --delete FILE              remove the prefix\n"
		   "  -s, --stellaris-address ADDR   with -a: TI Stellaris prefix for load address ADDR\n"
		   "                                 (C syntax: 0x.. hex, else decimal; multiple of 1 KiB)\n"
		   "  -T, --stellaris                with -c or -D: the prefix must be a Stellaris one\n"
		   "  -L, --lpc-prefix               with -a, -c or -D: NXP LPC unencrypted prefix\n"
		   "  -h, --help, -V, --version\n"
		   "A DFU suffix on FILE is kept (its CRC is recomputed). The file is replaced atomically.\n"
		   "Exit: 0 ok, 64 usage, 65 no/bad prefix, 66 cannot read, 73/74 cannot write.\n");
}

static const char *type_name(dfk_prefix_type t)
{
	switch (t) {
	case DFK_PREFIX_STELLARIS: return "TI Stellaris";
	case DFK_PREFIX_LPC: return "NXP LPC (unencrypted)";
	case DFK_PREFIX_NONE: break;
	}
	return "none";
}

/* The file split into prefix area, payload and suffix. */
typedef struct pfile {
	dfk_blob blob;
	bool has_suffix;
	dfk_suffix suffix;
	size_t body_len; /* bytes before the suffix */
	dfk_prefix_type type;
	size_t prefix_len;
	uint32_t address;
} pfile;

static int pfile_read(const char *path, pfile *pf)
{
	dfk_error err = {0};

	memset(pf, 0, sizeof(*pf));
	if (dfk_blob_read(path, &pf->blob, &err) != DFK_OK)
		return tf_fail(cmd, &err);
	pf->body_len = pf->blob.len;
	if (dfk_suffix_present(pf->blob.data, pf->blob.len)) {
		if (dfk_suffix_parse(pf->blob.data, pf->blob.len, &pf->suffix, &err) != DFK_OK) {
			dfk_blob_free(&pf->blob);
			dfk_error_prefix(&err, "%s", path);
			return tf_fail(cmd, &err);
		}
		pf->has_suffix = true;
		pf->body_len -= pf->suffix.bLength;
	}
	dfk_prefix_detect(pf->blob.data, pf->body_len, &pf->type, &pf->prefix_len, &pf->address, &err);
	return 0;
}

int tool_file_prefix(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"check", required_argument, NULL, 'c'},
	    {"add", required_argument, NULL, 'a'},
	    {"delete", required_argument, NULL, 'D'},
	    {"stellaris-address", required_argument, NULL, 's'},
	    {"stellaris", no_argument, NULL, 'T'},
	    {"lpc-prefix", no_argument, NULL, 'L'},
	    {"LPC", no_argument, NULL, 'L'}, /* dfu-prefix's actual spelling */
	    {NULL, 0, NULL, 0},
	};
	const char *file = NULL;
	bool stellaris = false, lpc = false, has_addr = false;
	uint32_t addr = 0;
	int mode = 0, c, ret;
	dfk_prefix_type want;
	dfk_error err = {0};
	pfile pf;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hVc:a:D:s:TL", opts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return 0;
		case 'V': tool_version(stdout); return 0;
		case 'c':
		case 'a':
		case 'D':
			if (tf_mode_opt(cmd, c, optarg, &mode, &file))
				return 64;
			break;
		case 's':
			if (!tf_parse_u32(optarg, 0, &addr))
				return tf_usage(cmd, "-s needs an address (0x.. or decimal), not '%s'", optarg);
			has_addr = true;
			break;
		case 'T': stellaris = true; break;
		case 'L': lpc = true; break;
		case ':': return tf_usage(cmd, "option '%s' needs a value", argv[optind - 1]);
		default: return tf_usage(cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (tf_mode_end(cmd, argc, argv, mode))
		return 64;
	if (has_addr && mode != 'a')
		return tf_usage(cmd, "-s goes with -a (use -T with -c or -D)");
	if ((has_addr || stellaris) && lpc)
		return tf_usage(cmd, "choose either a Stellaris (-s/-T) or an LPC (-L) prefix");
	if (mode == 'a' && stellaris && !has_addr)
		return tf_usage(cmd, "a Stellaris prefix needs its address: -s ADDR");
	want = lpc ? DFK_PREFIX_LPC : (has_addr || stellaris) ? DFK_PREFIX_STELLARIS : DFK_PREFIX_NONE;
	if (mode == 'a' && want == DFK_PREFIX_NONE)
		return tf_usage(cmd, "give the prefix type: -s ADDR (Stellaris) or -L (LPC)");

	ret = pfile_read(file, &pf);
	if (ret)
		return ret;
	if (mode == 'a') {
		uint8_t head[16];
		size_t head_len;

		if (pf.type != DFK_PREFIX_NONE) {
			fprintf(stderr, "dfukit prefix: %s: offset 0: already has a %s prefix; delete it first (-D)\n",
				file, type_name(pf.type));
			ret = 65;
		} else if (dfk_prefix_build(want, addr, pf.body_len, head, &head_len, &err) != DFK_OK) {
			dfk_error_prefix(&err, "%s", file);
			ret = tf_fail(cmd, &err);
		} else {
			ret = tf_rewrite(cmd, file, head, head_len, pf.blob.data, pf.body_len,
					 pf.has_suffix ? &pf.suffix : NULL);
			if (ret == 0)
				printf("Added %s prefix to %s\n", type_name(want), file);
		}
	} else if (pf.type == DFK_PREFIX_NONE && mode == 'c' && tool_as == TOOL_AS_DFU_PREFIX) {
		/* dfu-prefix -c reports a missing prefix and exits 0. */
		printf("%s: no DFU prefix found\n", file);
		ret = 0;
	} else if (pf.type == DFK_PREFIX_NONE) {
		fprintf(stderr, "dfukit prefix: %s: offset 0: no DFU prefix found\n", file);
		ret = 65;
	} else if (want != DFK_PREFIX_NONE && pf.type != want) {
		fprintf(stderr, "dfukit prefix: %s: offset 0: the prefix is %s, not %s\n", file, type_name(pf.type),
			type_name(want));
		ret = 65;
	} else if (mode == 'c') {
		printf("File:      %s\n", file);
		printf("Prefix:    %s, %zu bytes\n", type_name(pf.type), pf.prefix_len);
		if (pf.type == DFK_PREFIX_STELLARIS)
			printf("Address:   0x%08X\n", pf.address);
		else {
			const uint8_t *p = pf.blob.data;
			unsigned blocks = p[2] | p[3] << 8;
			printf("Size:      %u blocks of 512 bytes (%u KiB)\n", blocks, blocks / 2);
		}
		printf("Payload:   %zu bytes\n", pf.body_len - pf.prefix_len);
		ret = 0;
	} else {
		ret = tf_rewrite(cmd, file, NULL, 0, pf.blob.data + pf.prefix_len, pf.body_len - pf.prefix_len,
				 pf.has_suffix ? &pf.suffix : NULL);
		if (ret == 0)
			printf("Removed %s prefix from %s\n", type_name(pf.type), file);
	}
	dfk_blob_free(&pf.blob);
	return ret;
}
