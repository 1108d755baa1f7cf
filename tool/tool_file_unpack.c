/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* `dfukit unpack FILE -o DIR [--ihex]`: one file per element, named
 * t<target>-alt<alt>-0x<address, 8 lowercase hex digits>.bin (or .hex).
 *
 * The input is parsed completely before anything is written, and every
 * output goes to a temporary file first; they are renamed into place only
 * once all of them were written (up to 256 elements), so a bad input or a
 * failed write leaves DIR untouched. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tool_files.h"

static const char cmd[] = "unpack";

static void usage(FILE *f)
{
	fprintf(f, "Usage: dfukit unpack FILE -o DIR [--ihex]\n"
		   "Write each element of FILE (DfuSe .dfu, or any format `dfukit info` reads) to\n"
		   "DIR/t<target>-alt<alt>-0x<address>.bin; DIR is created when missing.\n"
		   "  -o, --output DIR   where to write\n"
		   "  -x, --ihex         write Intel HEX (.hex) files instead of raw binaries\n"
		   "  -h, --help\n"
		   "Exit: 0 ok, 64 usage, 65 bad input, 66 missing input, 73/74 cannot write.\n");
}

int tool_file_unpack(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"output", required_argument, NULL, 'o'},
	    {"ihex", no_argument, NULL, 'x'},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *path;
	bool ihex = false;
	dfk_firmware fw;
	dfk_error err = {0};
	dfk_out **outs = NULL;
	char **names = NULL;
	size_t nout = 0, total = 0;
	bool defer;
	int c, ret = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:x", opts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return 0;
		case 'o': dir = optarg; break;
		case 'x': ihex = true; break;
		case ':': return tf_usage(cmd, "option '%s' needs a value", argv[optind - 1]);
		default: return tf_usage(cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return tf_usage(cmd, "%s", optind >= argc ? "no input file given" : "give exactly one input file");
	if (!dir || !*dir)
		return tf_usage(cmd, "no output directory: -o DIR");
	path = argv[optind];

	dfk_firmware_init(&fw);
	if (dfk_firmware_load(path, NULL, &fw, &err) != DFK_OK)
		return tf_fail(cmd, &err);
	for (size_t t = 0; t < fw.ntargets; t++)
		total += fw.targets[t].image.count;
	if (total == 0) {
		dfk_firmware_free(&fw);
		fprintf(stderr, "dfukit unpack: %s: no elements to write\n", path);
		return 65;
	}
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "dfukit unpack: %s: cannot create directory: %s\n", dir, strerror(errno));
		dfk_firmware_free(&fw);
		return 73;
	}
	/* Holding every output open until the end needs a descriptor each; past a
	 * few hundred elements they are committed one by one instead. */
	defer = total <= 256;
	outs = calloc(total, sizeof(*outs));
	names = calloc(total, sizeof(*names));
	if (!outs || !names) {
		ret = 70;
		goto done;
	}
	for (size_t t = 0; t < fw.ntargets && ret == 0; t++) {
		const dfk_target *tg = &fw.targets[t];

		for (size_t e = 0; e < tg->image.count; e++) {
			const dfk_element *el = &tg->image.elements[e];
			dfk_code rc;

			if (asprintf(&names[nout], "%s/t%zu-alt%u-0x%08x.%s", dir, t, tg->alt, el->addr,
				     ihex ? "hex" : "bin") < 0) {
				names[nout] = NULL;
				ret = 70;
				break;
			}
			rc = dfk_out_open(&outs[nout], names[nout], DFK_OUT_OVERWRITE, &err);
			if (rc == DFK_OK) {
				nout++;
				if (ihex) {
					dfk_image one;
					dfk_image_init(&one);
					rc = dfk_image_add_ref(&one, el->addr, el->data, el->size, &err);
					if (rc == DFK_OK)
						rc = dfk_ihex_write(outs[nout - 1], &one, &err);
					dfk_image_free(&one);
				} else {
					rc = dfk_out_write(outs[nout - 1], el->data, el->size, &err);
				}
			}
			if (rc == DFK_OK && !defer) {
				dfk_out *o = outs[nout - 1];
				outs[nout - 1] = NULL;
				rc = dfk_out_commit(o, &err);
				if (rc == DFK_OK)
					printf("%s\n", names[nout - 1]);
			}
			if (rc != DFK_OK) {
				ret = tf_fail(cmd, &err);
				break;
			}
		}
	}
	/* Everything written: move the files into place. */
	for (size_t i = 0; i < nout && ret == 0 && defer; i++) {
		dfk_out *o = outs[i];
		outs[i] = NULL;
		if (dfk_out_commit(o, &err) != DFK_OK)
			ret = tf_fail(cmd, &err);
		else
			printf("%s\n", names[i]);
	}
done:
	for (size_t i = 0; i < nout; i++)
		if (outs && outs[i])
			dfk_out_abort(outs[i]);
	for (size_t i = 0; names && i < total; i++)
		free(names[i]);
	free(outs);
	free(names);
	dfk_firmware_free(&fw);
	return ret;
}
