/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* libdfukit: USB Device Firmware Upgrade (DFU 1.0/1.1, ST DfuSe 1.1a).
 * Include this one header for the whole API.
 *
 * Growing without breaking
 * ------------------------
 * What the library keeps state in is opaque, created and freed by the
 * library: dfk_ctx, dfk_transport, dfk_usb, dfk_found, dfk_dev, dfk_out.
 * New fields there never touch a program.
 *
 * Option structs that a program allocates and the library reads are
 * extensible: dfk_job_opts, dfk_match, dfk_load_opts. Their first member
 * is `size_t size`, which their init function (dfk_job_opts_init,
 * dfk_match_init, dfk_load_opts_init) sets to the struct's size in the
 * headers the program was built with, along with the defaults; the program
 * then changes the fields it wants. The library reads only the bytes
 * within size: a program built against older headers gets the defaults for
 * the fields added since. A struct that was never initialised (size 0 or
 * implausible) is refused with DFK_ERR_USAGE, naming the init function;
 * one from newer headers that sets a field this library does not know is
 * refused with DFK_ERR_UNSUPPORTED. New fields are only ever appended, and
 * their zero value is the old behaviour.
 *
 * Plain records with a fixed content never grow: USB and DFU descriptors
 * and requests (dfk_setup, dfk_status, dfk_func_desc, ...), dfk_suffix,
 * dfk_clock (two functions and a pointer; the library copies it),
 * dfk_error. Structs the library hands out only as const pointers
 * (dfk_dfu_if, dfk_usb_dev, dfk_memmap of a device) may gain fields at
 * their end. The data containers a program declares and passes to their
 * _init/_free functions (dfk_image, dfk_firmware, dfk_memmap, dfk_plan,
 * dfk_blob) are part of the ABI of this soname: changing them changes the
 * soname.
 *
 * Ownership
 * ---------
 * Every pointer the library returns says in its header who owns it and
 * how long it lives. The rule: a pointer into an object lives as long as
 * that object (a dfk_found's interfaces until dfk_found_free, an open
 * device's interface and memory map until dfk_dev_close); messages passed
 * to callbacks only during the call; names (dfk_code_name, ...) are static.
 * An open dfk_dev depends on its context and transport (which must outlive
 * it), never on the list it was found in.
 *
 * Threads
 * -------
 * The library starts no thread, installs no signal handler and keeps no
 * global mutable state (each libusb transport has its own libusb context;
 * sockets are written with MSG_NOSIGNAL; error texts come from
 * strerror_r). So:
 *  - Calls on different objects run in parallel: two threads may each find,
 *    open and flash through their own transports (even two libusb ones),
 *    parse files or build plans at the same time.
 *  - A transport, and everything made through it (the dfk_found lists, the
 *    open dfk_dev and dfk_usb handles), is used by one thread at a time:
 *    the USB/IP transport shares its connections between them. Hand them
 *    over between threads freely, with the usual synchronisation.
 *  - A dfk_ctx is configured (the dfk_ctx_set_* calls) before it is used,
 *    from one thread. Once in use it is only read, so several threads may
 *    share it: its callbacks are then called from each of them, and a
 *    cancel stops all their jobs. One context per job thread is simplest.
 *  - dfk_ctx_cancel and dfk_ctx_cancelled may be called from any thread
 *    and from a signal handler (a lock-free atomic); nothing else is
 *    async-signal-safe.
 *  - Callbacks run on the thread of the call that reports, during it; they
 *    may call dfk_ctx_cancel and anything that does not touch the objects
 *    of the running call.
 *  - One exception to the rule of no shared state: loading an ELF file
 *    calls libelf's elf_version(), which sets a process-wide flag in
 *    libelf (always to the same value). */
#ifndef DFUKIT_DFUKIT_H
#define DFUKIT_DFUKIT_H

#include "dfukit/export.h"

#include "dfukit/device.h"
#include "dfukit/dfu.h"
#include "dfukit/error.h"
#include "dfukit/formats.h"
#include "dfukit/image.h"
#include "dfukit/memmap.h"
#include "dfukit/transport.h"
#include "dfukit/usb.h"
#include "dfukit/version.h"

#endif
