/* dfukit-emu: the USB/IP protocol engine of one connection. Bytes in, bytes
 * out, timers given as clock values by the caller; no sockets, no sleeping,
 * so that fuzz targets and unit tests drive it with plain buffers. */
#ifndef DFUKIT_EMU_SESSION_H
#define DFUKIT_EMU_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu_device.h"

/* How the one virtual device appears on its virtual bus. */
#define EMU_BUSID "1-1"
#define EMU_BUSNUM 1u
#define EMU_SYSFS_PATH "/sys/devices/platform/dfukit-emu/usb1/1-1"
#define EMU_FIRST_DEVNUM 2u

typedef struct emu_session emu_session;

/* direct: the peer is vhci-hcd, which sends URBs only (no OP_* handshake
 * and no idle limit before the first request). devnum is what OP_REP_*
 * announce (devid = busnum << 16 | devnum). */
emu_session *emu_session_new(emu_device *dev, uint32_t devnum, bool direct, uint64_t now_ms);
void emu_session_free(emu_session *s);

/* Feeds bytes received from the peer; any split of the stream is fine. */
void emu_session_input(emu_session *s, const uint8_t *buf, size_t len, uint64_t now_ms);
/* Releases delayed replies that are due and applies idle limits. */
void emu_session_tick(emu_session *s, uint64_t now_ms);
/* The next time emu_session_tick has work, UINT64_MAX for none. */
uint64_t emu_session_deadline(const emu_session *s);

/* Bytes waiting to be sent, and how many of them went out. */
const uint8_t *emu_session_output(const emu_session *s, size_t *len);
void emu_session_consume(emu_session *s, size_t n);

/* False while enough work is queued that reading more would only buffer. */
bool emu_session_wants_input(const emu_session *s);
/* Another connection holds the import: OP_REQ_IMPORT on this one gets
 * ST_DEV_BUSY (as from usbipd), OP_REQ_DEVLIST is answered as usual. */
void emu_session_set_import_busy(emu_session *s);
/* True once the connection must be closed after its output is flushed. */
bool emu_session_done(const emu_session *s);
/* True when the peer imported the device (or sent URBs directly): its
 * going away is a host disconnect (bus reset, statistics). */
bool emu_session_is_host(const emu_session *s);
/* The bus event that ended the session (EMU_EVENT_NONE otherwise). */
emu_event emu_session_event(const emu_session *s);
/* Why the session is done, for the log ("" while it is not). */
const char *emu_session_reason(const emu_session *s);

#endif
