/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* libdfukit's transport backends, private (as libusb's libusbi.h): the
 * table each way of reaching USB devices fills in, and the core's side of
 * it. The engine only ever reaches a device through these operations.
 *
 * The core allocates and frees the transport and every open handle, with
 * room for the backend's own part (transport_size and handle_size bytes,
 * zeroed, max_align_t aligned: dfk__transport_priv, dfk__usb_priv); a
 * backend only sets up and releases what its part holds. */
#ifndef DFUKIT_BACKEND_H
#define DFUKIT_BACKEND_H

#include <stdalign.h>
#include <stddef.h>

#include "dfukit/device.h" /* dfk_ctx */
#include "dfukit/transport.h"

/* One device of a transport's list: the public description, which callers
 * see as a const dfk_usb_dev * (it is the first member), and the backend's
 * data. */
typedef struct dfk_usb_node {
	dfk_usb_dev dev;
	dfk_transport *transport; /* that listed it (set by the core); NULL in copies */
	void *backend;		  /* the backend's, freed by its list_free */
} dfk_usb_node;

typedef struct dfk_usb_list {
	dfk_usb_node *devs;
	size_t count;
} dfk_usb_list;

typedef struct dfk_transport_ops {
	const char *name;      /* "libusb", "usbip": in messages */
	size_t transport_size; /* bytes of the backend's part of a dfk_transport */
	size_t handle_size;    /* bytes of the backend's part of a dfk_usb */

	/* Releases what the backend's part of t holds (the core frees t);
	 * every handle of t is closed and every list freed before. */
	void (*destroy)(dfk_transport *t);
	/* Fills list (empty on entry) with the devices and their device and
	 * configuration descriptors, allocated by the backend; on failure
	 * leaves it empty. A device that cannot be described is left out or
	 * listed without configurations, never fails the whole list. */
	dfk_code (*enumerate)(dfk_transport *t, dfk_usb_list *list, dfk_error *err);
	/* Frees everything enumerate put into list and empties it. */
	void (*list_free)(dfk_transport *t, dfk_usb_list *list);
	/* Opens dev (a node of a live list of t) into h's backend part; the
	 * open handle must not depend on the list afterwards. */
	dfk_code (*open)(dfk_transport *t, const dfk_usb_node *dev, dfk_usb *h, dfk_error *err);
	/* Releases what h's backend part holds (the core frees h). */
	void (*close)(dfk_usb *h);
	/* One control transfer; data has setup->wLength bytes of room (may be
	 * NULL when wLength is 0). A STALL is DFK_ERR_STALL, a vanished device
	 * DFK_ERR_NODEV, no answer within timeout_ms (0: no limit)
	 * DFK_ERR_TIMEOUT. *actual gets the bytes moved, never more than
	 * wLength. */
	dfk_code (*control)(dfk_usb *h, const dfk_setup *setup, uint8_t *data, size_t *actual, unsigned timeout_ms,
			    dfk_error *err);
	/* Claims interface intf for this handle (detaching a kernel driver
	 * where the platform has one). */
	dfk_code (*claim)(dfk_usb *h, uint8_t intf, dfk_error *err);
	/* Releases a claimed interface; cannot fail (a gone device is fine). */
	void (*release)(dfk_usb *h, uint8_t intf);
	/* SET_INTERFACE: alt setting alt of interface intf. */
	dfk_code (*set_alt)(dfk_usb *h, uint8_t intf, uint8_t alt, dfk_error *err);
	/* USB bus reset; the device may re-enumerate (DFK_ERR_NODEV is normal).
	 * The handle stays valid (to be closed) but need not work any more. */
	dfk_code (*reset)(dfk_usb *h, dfk_error *err);
} dfk_transport_ops;

struct dfk_transport {
	const dfk_transport_ops *ops;
	const dfk_ctx *ctx;			   /* its clock and log; outlives the transport */
	char only_path[64];			   /* dfk_transport_set_only_path; "" = every device */
	alignas(max_align_t) unsigned char priv[]; /* ops->transport_size bytes */
};

/* An open device. */
struct dfk_usb {
	const dfk_transport_ops *ops;
	dfk_transport *transport;
	alignas(max_align_t) unsigned char priv[]; /* ops->handle_size bytes */
};

static inline void *dfk__transport_priv(dfk_transport *t)
{
	return t->priv;
}

static inline void *dfk__usb_priv(dfk_usb *h)
{
	return h->priv;
}

/* The node behind a dfk_usb_dev that a transport listed. */
static inline const dfk_usb_node *dfk__usb_node(const dfk_usb_dev *dev)
{
	return (const dfk_usb_node *)(const void *)dev;
}

/* Allocates a transport for ops (its backend part zeroed); the backend's
 * constructor then sets its part up, and on failure frees t with
 * dfk_transport_free (so destroy must cope with a part half set up). */
dfk_code dfk__transport_new(const dfk_transport_ops *ops, const dfk_ctx *ctx, dfk_transport **t, dfk_error *err);
/* ops->enumerate, with each node's transport set. */
dfk_code dfk__transport_enumerate(dfk_transport *t, dfk_usb_list *list, dfk_error *err);

/* ops->claim, ops->set_alt and ops->reset, reported to the context's trace
 * callback like every control transfer (dfk_usb_control). */
dfk_code dfk__usb_claim(dfk_usb *h, uint8_t intf, dfk_error *err);
dfk_code dfk__usb_set_alt(dfk_usb *h, uint8_t intf, uint8_t alt, dfk_error *err);
dfk_code dfk__usb_reset(dfk_usb *h, dfk_error *err);

/* Whether enumerate lists the device at path (dfk_transport_set_only_path):
 * a backend asks before it describes, opens or imports a device. */
bool dfk__transport_wants(const dfk_transport *t, const char *path);

/* Deep copy of a device description (configurations and their alt
 * settings) into dst, whose transport and backend are NULL: dfk_usb_open
 * refuses it. Free with dfk__usb_dev_clear. */
dfk_code dfk__usb_dev_copy(dfk_usb_node *dst, const dfk_usb_dev *src, dfk_error *err);
/* Frees what dfk__usb_dev_copy allocated (not dst itself). */
void dfk__usb_dev_clear(dfk_usb_node *d);

#endif
