/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit-emu: the boundary between the virtual USB device (descriptors,
 * standard requests, DFU/DfuSe state machine, flash model, profiles, faults,
 * timing, statistics: emu_device.c and friends) and its front ends (the
 * USB/IP server and the vhci-hcd attacher: emu_server.c, emu_main.c).
 *
 * The device is a pure state machine driven by control transfers and a
 * clock value given by the caller: it never sleeps and does no I/O except on
 * its --memory backing file. */
#ifndef DFUKIT_EMU_DEVICE_H
#define DFUKIT_EMU_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct emu_device emu_device;
/* A device description: a built-in device or a --device FILE (emu_desc.c,
 * doc/device-format.md). */
typedef struct emu_profile emu_profile;

typedef enum emu_timing {
	EMU_TIMING_FAST = 0, /* bwPollTimeout 0, no busy time */
	EMU_TIMING_REAL = 1, /* report and enforce the profile's busy times */
} emu_timing;

#define EMU_MAX_FAULTS 32

typedef struct emu_config {
	const char *profile;	 /* built-in device name (see emu_profiles_print), if no desc */
	const emu_profile *desc; /* a loaded description; borrowed: it must outlive the device */
	const char *memory_path; /* NULL: memories in RAM only */
	/* Without memory_path: the caller's buffer for the memories, used when
	 * it holds them all (emu_profile_memsize), else one is allocated. For
	 * fuzzing, where a fresh allocation per run costs more in page faults
	 * than the run itself; it must outlive the device. */
	uint8_t *memory;
	size_t memory_size;
	emu_timing timing;
	const char *serial;		    /* NULL: the description's serial (or none) */
	const char *faults[EMU_MAX_FAULTS]; /* --fault SPEC strings, parsed by the device */
	size_t nfaults;
} emu_config;

/* Prints one line per built-in device: "NAME  description". */
void emu_profiles_print(FILE *f);

/* Device descriptions. Each returns NULL with a message in err on failure;
 * the messages name the file (label) and the key path of what is wrong. */
/* A built-in device by name. */
emu_profile *emu_profile_builtin(const char *name, char *err, size_t errsz);
/* JSON text; label names it in messages, basedir is where files it names
 * are looked for (NULL: files are refused). */
emu_profile *emu_desc_parse(const char *text, size_t len, const char *label, const char *basedir, char *err,
			    size_t errsz);
/* A --device FILE. *unreadable is set when the file could not be read (as
 * opposed to a description with an error). */
emu_profile *emu_desc_load(const char *path, bool *unreadable, char *err, size_t errsz);
void emu_profile_free(emu_profile *p);
const char *emu_profile_name(const emu_profile *p);
/* The bus position the description asks for: busid "" and devnum 0 when
 * it leaves them to the server. */
const char *emu_profile_busid(const emu_profile *p);
uint32_t emu_profile_devnum(const emu_profile *p);
/* The DFU-mode serial number as text, NULL when it is absent or raw bytes. */
const char *emu_profile_serial(const emu_profile *p);
/* Bytes of all its memories (the --memory file size). */
uint64_t emu_profile_memsize(const emu_profile *p);
/* Prints the description format's quirk names for --help. */
void emu_quirks_help(FILE *f);
/* Prints the --fault SPEC grammar for --help. */
void emu_faults_help(FILE *f);
/* Prints the --memory FILE layout for --help (added by the device model). */
void emu_memory_help(FILE *f);

/* Creates the device (memories created/erased to 0xFF or loaded from
 * memory_path). On failure returns NULL with a message in errbuf. */
emu_device *emu_device_new(const emu_config *cfg, char *errbuf, size_t errsz);
/* The USB serial number string (DFU mode); NULL when the device has none
 * or sends raw bytes. */
const char *emu_device_serial(const emu_device *dev);
/* The description the device is made of. */
const emu_profile *emu_device_profile(const emu_device *dev);
/* Flushes memories to memory_path and frees. */
void emu_device_free(emu_device *dev);

/* What the USB/IP server announces in OP_REP_DEVLIST / OP_REP_IMPORT for the
 * device as it currently is (mode may change after detach/leave). */
typedef struct emu_usb_identity {
	uint16_t idVendor, idProduct, bcdDevice;
	uint8_t bDeviceClass, bDeviceSubClass, bDeviceProtocol;
	uint8_t bConfigurationValue, bNumConfigurations, bNumInterfaces;
	uint8_t intf_class[8], intf_subclass[8], intf_protocol[8]; /* per interface */
	bool present; /* false: the device is off the bus (e.g. "leave" to no app) */
} emu_usb_identity;
void emu_device_identity(const emu_device *dev, emu_usb_identity *id);

/* Results of emu_device_control. */
#define EMU_URB_OK 0
#define EMU_URB_STALL (-32)    /* -EPIPE */
#define EMU_URB_NODEV (-19)    /* -ENODEV: device gone (disconnect fault) */
#define EMU_URB_TIMEOUT (-110) /* the device does not answer (stuck) */

/* One control transfer on ep0. setup is the raw 8-byte SETUP packet (USB
 * little-endian). For OUT, data holds wLength bytes from the host; for IN,
 * data has room for wLength bytes and *actual receives how many were
 * produced (never more than wLength). now_ms is a monotonic clock.
 * *delay_ms receives how long a real device would take before completing
 * this transfer (a NAKing busy device in --timing real); the server delays
 * the reply by that much. Returns EMU_URB_*. */
int emu_device_control(emu_device *dev, const uint8_t setup[8], uint8_t *data, uint32_t *actual, uint64_t now_ms,
		       uint32_t *delay_ms);

/* Bus events the front end must act on after a control transfer. */
typedef enum emu_event {
	EMU_EVENT_NONE = 0,
	EMU_EVENT_DISCONNECT,  /* drop the connection; the device stays off the bus */
	EMU_EVENT_REENUMERATE, /* drop the connection; the device comes back (new identity) */
} emu_event;
/* Returns and clears the pending event. */
emu_event emu_device_take_event(emu_device *dev);
/* The host went away or re-attached: the device sees a USB reset (a DFU
 * device in dfuMANIFEST-WAIT-RESET or after DETACH changes mode here, and
 * then leaves EMU_EVENT_REENUMERATE pending). */
void emu_device_bus_reset(emu_device *dev);

/* Statistics for --stats: writes the device's JSON object (described in
 * --help) without a newline. */
void emu_device_write_stats(const emu_device *dev, FILE *f);

#endif
