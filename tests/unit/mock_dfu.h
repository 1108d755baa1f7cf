/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* An in-process fake USB bus for the engine's unit tests: a dfk_transport
 * whose devices are scriptable DFU 1.1 and DfuSe state machines, and a fake
 * clock, so the engine runs with no I/O and no real waiting. It is written
 * from the DFU 1.1 spec and ST AN3156 independently of lib/, so that a bug
 * in the engine cannot hide behind the same bug here. */
#ifndef DFUKIT_MOCK_DFU_H
#define DFUKIT_MOCK_DFU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfukit/dfukit.h"

#define MOCK_MAX_DEVS 4
#define MOCK_MAX_ALTS 4
#define MOCK_MAX_PAGES 64

typedef struct mock_bus mock_bus;

typedef struct mock_seg {
	uint32_t start, page_size, pages;
} mock_seg;

typedef struct mock_dev {
	mock_bus *bus;
	/* identity */
	uint16_t vid, pid, bcd_device;
	uint16_t dfu_pid; /* after detach + reset (run-time devices) */
	char path[32];
	uint8_t devnum;
	char serial[64];
	uint8_t protocol; /* 1 run-time, 2 DFU mode */
	uint8_t nalts;
	const char *alt_names[MOCK_MAX_ALTS];
	dfk_func_desc func;
	bool dfuse;
	/* DfuSe memory: one block with an erase layout */
	uint32_t mem_base, mem_size;
	uint8_t *mem;
	mock_seg segs[8];
	size_t nsegs;
	/* plain DFU: what was downloaded, and what an upload returns */
	uint8_t *dl;
	size_t dl_len, dl_cap;
	uint8_t *ul;
	size_t ul_len, ul_off;
	/* timing */
	uint32_t poll_ms; /* bwPollTimeout reported while busy */
	uint32_t busy_ms; /* how long an operation really takes */
	uint32_t mass_poll_ms, mass_busy_ms;
	bool quick;	  /* answer dfuDNLOAD-IDLE on the first GETSTATUS */
	bool stall_early; /* a GETSTATUS before the work is done stalls (STM32L4) */
	uint32_t manifest_ms;
	/* state */
	uint8_t state, status;
	uint32_t ptr;
	uint8_t cur_alt;
	unsigned next_block;
	int pending; /* MOCK_OP_* */
	uint8_t pbuf[4096];
	uint16_t plen, pblock;
	uint64_t busy_until;
	uint8_t after_state, after_status;
	bool gone, hidden;
	unsigned reappear_after; /* enumerations to skip after a detach reset */
	bool detached;
	/* faults */
	unsigned fail_write_n; /* the n-th data write (1-based) fails */
	unsigned fail_erase_n;
	unsigned fail_setaddr_n; /* the n-th SET_ADDRESS (1-based) fails */
	uint8_t fail_status;
	bool stuck_busy;
	bool clr_fails;		   /* CLRSTATUS leaves it in dfuERROR */
	unsigned disconnect_after; /* gone after this many control transfers */
	bool leave_vanish_early;   /* gone before answering the GETSTATUS after leave */
	bool leave_error;	   /* answers the leave with dfuERROR */
	bool manifest_error;
	bool manifest_vanish; /* resets itself right after reporting dfuMANIFEST */
	bool open_fails;      /* listed, but cannot be opened (permissions) */
	bool short_status;    /* GETSTATUS answers 3 bytes */
	bool corrupt;
	uint32_t corrupt_addr;	 /* a write there stores a different byte */
	unsigned stall_class_at; /* the n-th class request (n_class) stalls, state unchanged */
	unsigned fail_read_n;	 /* the n-th UPLOAD data block (1-based) fails with fail_status */
	bool leave_ignored;	 /* stalls the GETSTATUS after leave and stays in dfuIDLE */
	unsigned set_alt_stalls; /* this many SET_INTERFACE requests stall */
	bool set_alt_timeout;	 /* SET_INTERFACE gets no answer */
	/* quirks (tests/unit/test_quirk_engine.c) */
	bool busy_tail;	    /* STM32H7 rev V: done, but dfuDNBUSY until CLRSTATUS */
	bool raw_serial;    /* serial string descriptor carries raw bytes (GD32VF103) */
	uint32_t dnload_ms; /* a DNLOAD takes this long (erase in the transfer) */
	unsigned n_tail_clears;
	unsigned req_timeout[7]; /* timeout_ms of the last class request of each kind */
	/* counters */
	unsigned n_control, n_req[7], n_set_alt, n_string, n_resets, n_open;
	unsigned n_erase, n_setaddr, n_writes, n_mass, n_unprotect, n_leave, n_dirty, n_early, n_stalls;
	unsigned n_bad_block;
	unsigned n_class, n_reads;	   /* class requests, UPLOAD data blocks */
	unsigned timeout_min, timeout_max; /* timeout_ms of the class requests */
	uint32_t erased_pages[MOCK_MAX_PAGES];
	unsigned erase_count[MOCK_MAX_PAGES];
	size_t nerased;
	uint32_t last_leave_ptr;
} mock_dev;

struct mock_bus {
	dfk_transport *t; /* made by mock_bus_init, freed by mock_bus_fini */
	mock_dev *devs[MOCK_MAX_DEVS];
	size_t ndevs;
	uint64_t now_ms, slept_ms;
	unsigned enumerations;
	char log[16384]; /* what the engine logged, one "LEVEL message" a line */
	size_t loglen;
};

void mock_bus_init(mock_bus *b);
void mock_bus_fini(mock_bus *b);
void mock_bus_add(mock_bus *b, mock_dev *d);
dfk_clock mock_bus_clock(mock_bus *b);

/* An STM32F405 ROM: 0483:df11, four alts, 04*016Kg,01*064Kg,07*128Kg
 * at 0x08000000, wTransferSize 2048, bmAttributes 0x0B. */
void mock_init_f405(mock_dev *d);
/* A plain DFU 1.1 device in DFU mode with the given attributes. */
void mock_init_plain(mock_dev *d, uint8_t attrs, uint16_t xfer);
void mock_free(mock_dev *d);

/* All control transfers, SET_INTERFACE included. */
unsigned mock_transfers(const mock_dev *d);
/* Times the page at addr was erased. */
unsigned mock_erased(const mock_dev *d, uint32_t addr);

/* A new context on the bus's clock that logs into b->log (aborts when it
 * cannot be made); free it with dfk_ctx_free. */
dfk_ctx *mock_ctx(mock_bus *b);
/* Finds the first DFU interface with bAlternateSetting alt (or any: -1)
 * and opens it, as the tool does. */
dfk_code mock_open(mock_bus *b, const dfk_ctx *ctx, int alt, dfk_found **found, dfk_dev **dev, dfk_error *err);

/* One device alone on its bus, opened as the tool does: what most engine
 * tests start from. Set d up (mock_init_*) before mock_rig_open. */
typedef struct mock_rig {
	mock_bus bus;
	mock_dev d;
	dfk_ctx *ctx;
	dfk_found *found;
	dfk_dev *dev;
	dfk_error err;
} mock_rig;

/* Puts d on the bus, makes ctx and opens d's alt (-1: any) into dev. */
dfk_code mock_rig_open(mock_rig *r, int alt);
/* Closes dev and frees what the rig holds (not r itself). */
void mock_rig_close(mock_rig *r);

#endif
