/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit-gui: command line and application start. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gui_window.h"

typedef struct gui_args {
	GPtrArray *sources;
	char *file;
} gui_args;

static void usage(FILE *f)
{
	fprintf(f, "Usage: dfukit-gui [--usbip ADDR]... [--no-libusb] [FILE]\n"
		   "\n"
		   "A window to write firmware to USB DFU devices and read it back.\n"
		   "\n"
		   "  --usbip ADDR   also list the devices of this USB/IP server (HOST, HOST:PORT\n"
		   "                 or unix:PATH); repeatable; DFUKIT_USBIP adds one more\n"
		   "  --no-libusb    do not list local USB devices\n"
		   "  -h, --help     this text\n"
		   "  -V, --version  print the version\n"
		   "  FILE           firmware to load (.dfu, .bin, .hex, .srec, .elf)\n");
}

static void on_activate(GtkApplication *app, gpointer user)
{
	gui_args *a = user;
	gui_window *w = gui_window_new(app, (const char *const *)a->sources->pdata);
	if (a->file)
		gui_window_open_file(w, a->file);
	gtk_window_present(w->win);
}

int main(int argc, char **argv)
{
	gui_args a = {g_ptr_array_new(), NULL};
	bool libusb = true;
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(s, "-V") == 0 || strcmp(s, "--version") == 0) {
			printf("dfukit-gui %s\n", dfk_version());
			return 0;
		} else if (strcmp(s, "--usbip") == 0 || strncmp(s, "--usbip=", 8) == 0) {
			const char *v = s[7] == '=' ? s + 8 : (i + 1 < argc ? argv[++i] : NULL);
			if (!v || !*v) {
				fprintf(stderr, "dfukit-gui: --usbip needs an address (HOST[:PORT] or unix:PATH)\n");
				return 64;
			}
			g_ptr_array_add(a.sources, (gpointer)v);
		} else if (strcmp(s, "--no-libusb") == 0) {
			libusb = false;
		} else if (s[0] == '-' && s[1]) {
			fprintf(stderr, "dfukit-gui: unknown option %s\n", s);
			usage(stderr);
			return 64;
		} else if (a.file) {
			fprintf(stderr, "dfukit-gui: only one FILE can be given\n");
			return 64;
		} else {
			a.file = argv[i];
		}
	}
	const char *env = getenv("DFUKIT_USBIP");
	if (env && *env)
		g_ptr_array_add(a.sources, (gpointer)env);
	if (libusb)
		g_ptr_array_add(a.sources, (gpointer) "libusb");
	g_ptr_array_add(a.sources, NULL);
	if (a.file) {
		/* The working directory of the command line, before GTK runs. */
		a.file = g_canonicalize_filename(a.file, NULL);
	}

	AdwApplication *app = adw_application_new("org.dfukit.Gui", G_APPLICATION_NON_UNIQUE);
	g_signal_connect(app, "activate", G_CALLBACK(on_activate), &a);
	char *gargv[] = {argv[0], NULL};
	int rc = g_application_run(G_APPLICATION(app), 1, gargv);
	g_object_unref(app);
	g_ptr_array_free(a.sources, TRUE);
	g_free(a.file);
	return rc;
}
