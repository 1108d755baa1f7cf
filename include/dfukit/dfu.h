/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* libdfukit: DFU 1.1 and DfuSe requests on an open dfk_dev, and the jobs
 * built from them (download, upload, verify, leave, detach). */
#ifndef DFUKIT_DFU_H
#define DFUKIT_DFU_H

#include "dfukit/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfukit/device.h"
#include "dfukit/error.h"
#include "dfukit/formats.h"
#include "dfukit/image.h"
#include "dfukit/memmap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- The seven DFU requests (one control transfer each) ---- */
DFK_API dfk_code dfk_dfu_detach(dfk_dev *dev, uint16_t timeout_ms, dfk_error *err);
DFK_API dfk_code dfk_dfu_dnload(dfk_dev *dev, uint16_t block, const uint8_t *data, uint16_t len, dfk_error *err);
DFK_API dfk_code dfk_dfu_upload(dfk_dev *dev, uint16_t block, uint8_t *data, uint16_t len, size_t *got, dfk_error *err);
DFK_API dfk_code dfk_dfu_get_status(dfk_dev *dev, dfk_status *st, dfk_error *err);
DFK_API dfk_code dfk_dfu_clr_status(dfk_dev *dev, dfk_error *err);
DFK_API dfk_code dfk_dfu_get_state(dfk_dev *dev, uint8_t *state, dfk_error *err);
DFK_API dfk_code dfk_dfu_abort(dfk_dev *dev, dfk_error *err);

/* Polls GETSTATUS (sleeping bwPollTimeout, capped at DFK_TIMEOUT_POLL_CAP)
 * while the state is dfuDNBUSY/dfuDNLOAD-SYNC/dfuMANIFEST, within
 * DFK_TIMEOUT_OPERATION. Returns the last status; a bStatus other than OK is
 * DFK_ERR_PROTOCOL with the status and state names in the message. */
DFK_API dfk_code dfk_dfu_wait(dfk_dev *dev, dfk_status *st, dfk_error *err);
/* Brings the device to dfuIDLE: CLRSTATUS from dfuERROR, ABORT from the
 * *-IDLE states, bounded by dfk_ctx_max_error_retries. appIDLE is
 * DFK_ERR_PROTOCOL ("still in run-time mode"). */
DFK_API dfk_code dfk_dfu_make_idle(dfk_dev *dev, dfk_error *err);

/* ---- DfuSe commands (DNLOAD wValue 0, executed on the GETSTATUS after) ---- */
DFK_API dfk_code dfk_dfuse_set_address(dfk_dev *dev, uint32_t addr, dfk_error *err);
DFK_API dfk_code dfk_dfuse_erase_page(dfk_dev *dev, uint32_t addr, dfk_error *err);
DFK_API dfk_code dfk_dfuse_mass_erase(dfk_dev *dev, dfk_error *err);
/* Sends Read Unprotect; the device then erases everything and resets. */
DFK_API dfk_code dfk_dfuse_read_unprotect(dfk_dev *dev, dfk_error *err);
DFK_API dfk_code dfk_dfuse_get_commands(dfk_dev *dev, uint8_t *cmds, size_t cap, size_t *n, dfk_error *err);
/* Reads len bytes from addr (Set Address, ABORT, UPLOAD wBlockNum 2,3,...). */
DFK_API dfk_code dfk_dfuse_read(dfk_dev *dev, uint32_t addr, uint8_t *buf, size_t len, dfk_error *err);

/* ---- Plans: what a DfuSe download will erase and write (pure, no I/O) ---- */
typedef struct dfk_plan_page {
	uint32_t addr;
	uint32_t size;
	bool partial;	/* the image covers only part of this page */
	bool preserved; /* its bytes outside the image are read first and written back */
} dfk_plan_page;

typedef struct dfk_plan_run { /* contiguous bytes written after one SET_ADDRESS */
	uint32_t addr;
	uint32_t len;
	const uint8_t *data; /* borrowed from the image */
} dfk_plan_run;

typedef struct dfk_plan {
	dfk_plan_page *erase; /* each touched erasable page once, ascending */
	size_t nerase;
	dfk_plan_run *runs;
	size_t nruns;
} dfk_plan;

#define DFK_PLAN_FORCE 1u    /* allow segments without the needed right, or no segment */
#define DFK_PLAN_NO_ERASE 2u /* mass erase done: no page erases */
DFK_API dfk_code dfk_plan_build(const dfk_image *img, const dfk_memmap *map, unsigned flags, dfk_plan *plan,
				dfk_error *err);
DFK_API void dfk_plan_free(dfk_plan *plan);

/* ---- Jobs ---- */
/* What a job does. An extensible option struct (see dfukit.h): set up
 * with dfk_job_opts_init, then change fields; a job given one that was
 * not initialised fails with DFK_ERR_USAGE. NULL means the defaults. */
typedef struct dfk_job_opts {
	size_t size;	     /* set by dfk_job_opts_init */
	bool verify;	     /* read back and compare (needs bitCanUpload) */
	bool force;	     /* allow what loses data or leaves the memory map */
	bool mass_erase;     /* needs force */
	bool unprotect;	     /* needs force */
	bool leave;	     /* DfuSe: leave DFU mode afterwards */
	bool will_reset;     /* the device resets after the last write (option bytes) */
	bool skip_unchanged; /* read pages first, do not erase/write pages already equal */
	bool has_address;    /* DfuSe: start address given */
	uint32_t address;
	bool has_length; /* upload: length given */
	uint32_t length;
	bool dfuse; /* use DfuSe even if the device is plain DFU */
	/* DfuSe: a page the image covers only partly is read first and its
	 * bytes outside the image written back, when the device can upload. */
	bool preserve;
	/* Out (NULL = not wanted): dfk_job_download sets *verified to true
	 * only when everything it wrote was read back and matched; false when
	 * verify was off, the device cannot upload, a read-back was skipped
	 * (the device resets after the write) or the job failed. */
	bool *verified;
} dfk_job_opts;
DFK_API void dfk_job_opts_init(dfk_job_opts *o); /* verify and preserve on, rest off, no outputs */

/* Downloads fw: plain DFU for a plain device and an unaddressed raw file;
 * DfuSe (target by target, selecting each target's alt) otherwise. A DfuSe
 * .dfu is never sent raw. Verifies when asked and possible. */
DFK_API dfk_code dfk_job_download(dfk_dev *dev, const dfk_firmware *fw, const dfk_job_opts *o, dfk_error *err);
/* Uploads into out (streamed; plain DFU until a short block, DfuSe from
 * address for length). *bytes gets the count. */
DFK_API dfk_code dfk_job_upload(dfk_dev *dev, const dfk_job_opts *o, dfk_out *out, uint64_t *bytes, dfk_error *err);
/* DfuSe command mode (-s with neither -D nor -U): mass erase / unprotect / leave. */
DFK_API dfk_code dfk_job_dfuse_command(dfk_dev *dev, const dfk_job_opts *o, dfk_error *err);
/* DfuSe leave: optional SET_ADDRESS, zero-length DNLOAD, GETSTATUS; a device
 * that drops off the bus after the request is success. */
DFK_API dfk_code dfk_job_leave(dfk_dev *dev, bool has_address, uint32_t address, dfk_error *err);
/* Run-time -> DFU: DETACH with wDetachTimeOut, bus reset unless
 * bitWillDetach. The caller then re-finds the device (dfk_wait_for). */
DFK_API dfk_code dfk_job_detach(dfk_dev *dev, dfk_error *err);
/* -R: DETACH (if in DFU mode it asks to leave) then USB reset; a device
 * that vanishes is success. */
DFK_API dfk_code dfk_job_reset(dfk_dev *dev, dfk_error *err);
/* Polls dfk_find until an interface matching m (and, when path is given,
 * on that port path or with that serial) appears in DFU mode, within the
 * context's DFK_TIMEOUT_REENUM. *out is a new list holding only those
 * interfaces (NULL on failure), freed with dfk_found_free. */
DFK_API dfk_code dfk_wait_for(const dfk_ctx *ctx, dfk_transport *t, const dfk_match *m, const char *path,
			      const char *serial, dfk_found **out, dfk_error *err);

#ifdef __cplusplus
}
#endif
#endif
