/* dfukit-emu front end: the USB/IP server.
 *
 * Two layers. emu_session is the protocol engine of one connection: bytes
 * in, bytes out, timers, no sockets, so that fuzz targets and unit tests can
 * drive it with plain buffers. emu_serve_* run the single-threaded poll()
 * loop that moves bytes between a socket and a session. */
#ifndef DFUKIT_EMU_SERVER_H
#define DFUKIT_EMU_SERVER_H

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

/* The socket loop. */
typedef struct emu_server_opts {
	emu_device *dev;
	const char *profile;	/* for the ready line */
	const char *stats_path; /* NULL: no statistics file */
	int signal_fd;		/* readable when SIGINT/SIGTERM arrived */
	bool verbose;
} emu_server_opts;

/* Opens the listening socket for "HOST:PORT", "[V6]:PORT" or "unix:PATH"
 * and writes the address actually bound (port 0 resolved) to desc.
 * Returns the fd or -1 with a message in err. */
int emu_listen(const char *spec, char *desc, size_t descsz, char *err, size_t errsz);

/* Serves one importing host at a time until a signal arrives; while a host
 * holds the import, further connections are still served (device lists,
 * imports refused as busy) from the same poll() loop.
 * Returns the process exit status. */
int emu_serve_listener(const emu_server_opts *o, int listen_fd, const char *desc);
/* Attaches to vhci-hcd (sysfs dir vhci_dir) and serves the kernel until a
 * signal arrives or the host detaches the port. Returns the exit status. */
int emu_serve_vhci(const emu_server_opts *o, const char *vhci_dir);

/* Writes the statistics atomically (temp file + rename); false on error
 * with a message in err. */
bool emu_write_stats_file(const emu_device *dev, const char *path, char *err, size_t errsz);

#endif
