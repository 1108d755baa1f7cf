/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* emu_probe: a small scriptable USB/IP client for the dfukit-emu tests.
 *
 *   emu_probe [-t MS] ADDR list          print the device list
 *   emu_probe [-t MS] ADDR import BUSID  print the import reply
 *   emu_probe [-t MS] ADDR run BUSID     import, then run the script on stdin
 *   emu_probe [-t MS] ADDR urbs          run the script without a handshake
 *   emu_probe [-t MS] ADDR raw HEX       send bytes, print what comes back
 *
 * ADDR is unix:PATH or HOST:PORT. Script lines (numbers in hex):
 *   in RT RQ VALUE INDEX LENGTH       control IN, prints status=S len=N data=HEX
 *   out RT RQ VALUE INDEX [DATA]      control OUT, prints status=S len=N
 *   xfer EP DIR TBL SETUP16 [DATA]    any CMD_SUBMIT (DIR 0 out, 1 in), waits
 *   send in|out ...                   submit without waiting, prints seq=N
 *   unlink SEQ                        CMD_UNLINK of seqnum SEQ (decimal)
 *   recv                              print the next reply PDU
 *   raw HEX                           send raw bytes
 *   expect-eof                        prints eof or no-eof (after -t MS)
 *   sleep MS                          (decimal)
 * DATA is hex bytes, or BB*COUNT (COUNT decimal) for a repeated byte.
 * Exit: 0 ok, 1 refused import, 2 connection closed, 3 timeout, 64 usage,
 * 74 connect or socket error. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "usbip_wire.h"

static int timeout_ms = 10000;
static int sock = -1;
static uint32_t devid = (1u << 16) | 2u;
static uint32_t next_seq = 1;
/* Whether each seqnum was an IN request: replies do not echo the
 * direction, yet IN data follows them. */
static uint8_t seq_dir_in[4096];

static void die(int code, const char *fmt, const char *arg)
{
	fprintf(stderr, "emu_probe: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(code);
}

static int connect_to(const char *addr)
{
	int fd;

	if (strncmp(addr, "unix:", 5) == 0) {
		struct sockaddr_un sa;
		memset(&sa, 0, sizeof(sa));
		sa.sun_family = AF_UNIX;
		if (strlen(addr + 5) >= sizeof(sa.sun_path))
			die(64, "unix path too long: %s", addr);
		strcpy(sa.sun_path, addr + 5);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			die(74, "cannot connect to %s", addr);
		return fd;
	}
	char host[256];
	const char *colon = strrchr(addr, ':');
	if (!colon || (size_t)(colon - addr) >= sizeof(host))
		die(64, "bad address %s", addr);
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	struct addrinfo hints, *res;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
		die(74, "cannot resolve %s", addr);
	fd = socket(res->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0)
		die(74, "cannot connect to %s", addr);
	freeaddrinfo(res);
	return fd;
}

/* 0 ok, 1 EOF, 2 timeout. */
static int recv_exact(void *buf, size_t len, int tmo)
{
	size_t done = 0;

	while (done < len) {
		struct pollfd p = {sock, POLLIN, 0};
		int rc = poll(&p, 1, tmo);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc == 0)
			return 2;
		ssize_t n = recv(sock, (uint8_t *)buf + done, len - done, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 1;
		done += (size_t)n;
	}
	return 0;
}

static void must_recv(void *buf, size_t len)
{
	int rc = recv_exact(buf, len, timeout_ms);
	if (rc == 1) {
		printf("eof\n");
		fflush(stdout);
		exit(2);
	}
	if (rc == 2) {
		printf("timeout\n");
		fflush(stdout);
		exit(3);
	}
}

static void send_all(const void *buf, size_t len)
{
	dfk_error err;
	if (dfk_usbip_write_full(sock, buf, len, &err) != DFK_OK) {
		printf("send-failed\n");
		fflush(stdout);
		exit(2);
	}
}

static void print_hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

static void print_device(const dfk_usbip_device *d)
{
	printf("%s path=%s busnum=%u devnum=%u speed=%u id=%04x:%04x bcd=%04x class=%02x/%02x/%02x config=%u "
	       "nconfigs=%u ninterfaces=%u\n",
	       d->busid, d->path, d->busnum, d->devnum, d->speed, d->idVendor, d->idProduct, d->bcdDevice,
	       d->bDeviceClass, d->bDeviceSubClass, d->bDeviceProtocol, d->bConfigurationValue, d->bNumConfigurations,
	       d->bNumInterfaces);
}

static void send_op(uint16_t code, const char *busid)
{
	uint8_t buf[DFK_USBIP_IMPORT_REQ_LEN];
	dfk_usbip_op op = {DFK_USBIP_VERSION, code, 0};

	memset(buf, 0, sizeof(buf));
	dfk_usbip_op_pack(&op, buf);
	if (busid)
		strncpy((char *)buf + DFK_USBIP_OP_COMMON_LEN, busid, 31);
	send_all(buf, busid ? DFK_USBIP_IMPORT_REQ_LEN : DFK_USBIP_OP_COMMON_LEN);
}

static void recv_op(dfk_usbip_op *op, uint16_t want)
{
	uint8_t buf[DFK_USBIP_OP_COMMON_LEN];
	dfk_error err;

	must_recv(buf, sizeof(buf));
	if (dfk_usbip_op_unpack(buf, op, &err) != DFK_OK)
		die(74, "%s", err.msg);
	if (op->code != want) {
		printf("bad-reply-code=%04x\n", op->code);
		exit(74);
	}
}

static int do_list(void)
{
	dfk_usbip_op op;
	uint8_t n4[4];

	send_op(DFK_USBIP_OP_REQ_DEVLIST, NULL);
	recv_op(&op, DFK_USBIP_OP_REP_DEVLIST);
	must_recv(n4, 4);
	uint32_t n = ((uint32_t)n4[0] << 24) | ((uint32_t)n4[1] << 16) | ((uint32_t)n4[2] << 8) | n4[3];
	printf("status=%u devices=%u\n", op.status, n);
	for (uint32_t i = 0; i < n && i < 16; i++) {
		uint8_t dbuf[DFK_USBIP_DEVICE_LEN];
		dfk_usbip_device d;
		must_recv(dbuf, sizeof(dbuf));
		dfk_usbip_device_unpack(dbuf, &d);
		print_device(&d);
		for (unsigned j = 0; j < d.bNumInterfaces; j++) {
			uint8_t ibuf[DFK_USBIP_INTERFACE_LEN];
			dfk_usbip_interface intf;
			must_recv(ibuf, sizeof(ibuf));
			dfk_usbip_interface_unpack(ibuf, &intf);
			printf("  interface %u: %02x/%02x/%02x\n", j, intf.bInterfaceClass, intf.bInterfaceSubClass,
			       intf.bInterfaceProtocol);
		}
	}
	/* The server closes after the list. */
	uint8_t extra;
	printf(recv_exact(&extra, 1, timeout_ms) == 1 ? "closed\n" : "not-closed\n");
	return 0;
}

static int do_import(const char *busid)
{
	dfk_usbip_op op;
	uint8_t dbuf[DFK_USBIP_DEVICE_LEN];
	dfk_usbip_device d;

	send_op(DFK_USBIP_OP_REQ_IMPORT, busid);
	recv_op(&op, DFK_USBIP_OP_REP_IMPORT);
	if (op.status != 0) {
		printf("import status=%u\n", op.status);
		return 1;
	}
	must_recv(dbuf, sizeof(dbuf));
	dfk_usbip_device_unpack(dbuf, &d);
	printf("import status=0 ");
	print_device(&d);
	devid = (d.busnum << 16) | d.devnum;
	return 0;
}

/* Parses DATA tokens (hex runs or BB*COUNT) from the rest of a line. */
static size_t parse_data(char *rest, uint8_t *out, size_t cap)
{
	size_t n = 0;
	char *tok, *save = NULL;

	for (tok = strtok_r(rest, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
		char *star = strchr(tok, '*');
		if (star) {
			unsigned long b = strtoul(tok, NULL, 16), count = strtoul(star + 1, NULL, 10);
			if (count > cap - n)
				die(64, "data too long: %s", tok);
			memset(out + n, (int)b, count);
			n += count;
			continue;
		}
		size_t l = strlen(tok);
		if (l % 2)
			die(64, "odd hex data: %s", tok);
		for (size_t i = 0; i < l; i += 2) {
			char h[3] = {tok[i], tok[i + 1], 0};
			if (n >= cap)
				die(64, "data too long: %s", tok);
			out[n++] = (uint8_t)strtoul(h, NULL, 16);
		}
	}
	return n;
}

static uint8_t databuf[1 << 17];

static uint32_t submit(uint32_t ep, uint32_t dir, uint32_t tbl, const uint8_t setup[8], const uint8_t *data,
		       size_t dlen)
{
	static uint8_t pdu[DFK_USBIP_HEADER_LEN + (1 << 17)];
	dfk_usbip_header h;

	memset(&h, 0, sizeof(h));
	h.command = DFK_USBIP_CMD_SUBMIT;
	h.seqnum = next_seq++;
	h.devid = devid;
	h.direction = dir;
	h.ep = ep;
	h.u.submit.transfer_flags = dir ? 0x200 : 0;
	h.u.submit.transfer_buffer_length = (int32_t)tbl;
	h.u.submit.number_of_packets = 0;
	memcpy(h.u.submit.setup, setup, 8);
	dfk_usbip_header_pack(&h, pdu);
	memcpy(pdu + DFK_USBIP_HEADER_LEN, data, dlen);
	send_all(pdu, DFK_USBIP_HEADER_LEN + dlen);
	return h.seqnum;
}

/* Reads one reply PDU; prints it unless it is the RET_SUBMIT of want
 * (then returns true with its details printed in the short form). */
static bool recv_reply(uint32_t want, bool want_any)
{
	uint8_t hb[DFK_USBIP_HEADER_LEN];
	dfk_usbip_header h;
	dfk_error err;
	static uint8_t data[1 << 17];

	must_recv(hb, sizeof(hb));
	if (dfk_usbip_header_unpack(hb, &h, &err) != DFK_OK) {
		printf("bad-reply: %s\n", err.msg);
		exit(74);
	}
	if (h.command == DFK_USBIP_RET_UNLINK) {
		printf("ret_unlink seq=%u status=%d\n", h.seqnum, h.u.ret_unlink.status);
		return want_any;
	}
	if (h.command != DFK_USBIP_RET_SUBMIT) {
		printf("bad-reply-command=%u\n", h.command);
		exit(74);
	}
	size_t dl = 0;
	if (seq_dir_in[h.seqnum % 4096] && h.u.ret_submit.actual_length > 0) {
		dl = (size_t)h.u.ret_submit.actual_length;
		if (dl > sizeof(data)) {
			printf("bad-reply: actual_length %zu\n", dl);
			exit(74);
		}
		must_recv(data, dl);
	}
	bool mine = want_any || h.seqnum == want;
	if (!mine || want_any)
		printf("ret_submit seq=%u ", h.seqnum);
	printf("status=%d len=%d", h.u.ret_submit.status, h.u.ret_submit.actual_length);
	if (seq_dir_in[h.seqnum % 4096]) {
		printf(" data=");
		print_hex(data, dl);
	}
	printf("\n");
	return mine;
}

static uint32_t hexarg(char **save, const char *what)
{
	char *t = strtok_r(NULL, " \t\n", save);
	if (!t)
		die(64, "missing %s", what);
	return (uint32_t)strtoul(t, NULL, 16);
}

/* Parses "in RT RQ V I L" / "out RT RQ V I DATA" after the verb; returns
 * the seqnum submitted. */
static uint32_t submit_control(bool in, char **save)
{
	uint8_t setup[8];
	uint32_t rt = hexarg(save, "bmRequestType"), rq = hexarg(save, "bRequest");
	uint32_t v = hexarg(save, "wValue"), i = hexarg(save, "wIndex"), len;
	size_t dlen = 0;

	if (in) {
		len = hexarg(save, "wLength");
	} else {
		char *rest = strtok_r(NULL, "\n", save);
		dlen = rest ? parse_data(rest, databuf, 0xFFFF) : 0;
		len = (uint32_t)dlen;
	}
	setup[0] = (uint8_t)rt;
	setup[1] = (uint8_t)rq;
	setup[2] = (uint8_t)v;
	setup[3] = (uint8_t)(v >> 8);
	setup[4] = (uint8_t)i;
	setup[5] = (uint8_t)(i >> 8);
	setup[6] = (uint8_t)len;
	setup[7] = (uint8_t)(len >> 8);
	/* As usbcore does, a zero-length request goes out as OUT. */
	uint32_t dir = (in && len > 0) ? 1 : 0;
	uint32_t seq = submit(0, dir, len, setup, databuf, dlen);
	seq_dir_in[seq % 4096] = (uint8_t)dir;
	return seq;
}

static void send_raw(char *hex)
{
	size_t n = parse_data(hex, databuf, sizeof(databuf));
	send_all(databuf, n);
}

static int run_script(void)
{
	char line[1 << 18];

	while (fgets(line, sizeof(line), stdin)) {
		char *save = NULL, *verb = strtok_r(line, " \t\n", &save);
		if (!verb || verb[0] == '#')
			continue;
		if (strcmp(verb, "in") == 0 || strcmp(verb, "out") == 0) {
			uint32_t seq = submit_control(verb[0] == 'i', &save);
			while (!recv_reply(seq, false))
				;
		} else if (strcmp(verb, "send") == 0) {
			char *d = strtok_r(NULL, " \t\n", &save);
			if (!d)
				die(64, "send in|out ...%s", "");
			printf("seq=%u\n", submit_control(strcmp(d, "in") == 0, &save));
		} else if (strcmp(verb, "xfer") == 0) {
			uint32_t ep = hexarg(&save, "ep"), dir = hexarg(&save, "dir"), tbl = hexarg(&save, "tbl");
			char *st = strtok_r(NULL, " \t\n", &save);
			uint8_t setup[8];
			if (!st || strlen(st) != 16)
				die(64, "xfer needs a 16-digit SETUP%s", "");
			for (int k = 0; k < 8; k++) {
				char h[3] = {st[2 * k], st[2 * k + 1], 0};
				setup[k] = (uint8_t)strtoul(h, NULL, 16);
			}
			char *rest = strtok_r(NULL, "\n", &save);
			size_t dlen = rest ? parse_data(rest, databuf, sizeof(databuf)) : 0;
			uint32_t seq = submit(ep, dir, tbl, setup, databuf, dlen);
			seq_dir_in[seq % 4096] = (uint8_t)dir;
			while (!recv_reply(seq, false))
				;
		} else if (strcmp(verb, "unlink") == 0) {
			char *t = strtok_r(NULL, " \t\n", &save);
			uint8_t pdu[DFK_USBIP_HEADER_LEN];
			dfk_usbip_header h;
			if (!t)
				die(64, "unlink SEQ%s", "");
			memset(&h, 0, sizeof(h));
			h.command = DFK_USBIP_CMD_UNLINK;
			h.seqnum = next_seq++;
			h.devid = devid;
			h.u.unlink.seqnum = (uint32_t)strtoul(t, NULL, 10);
			dfk_usbip_header_pack(&h, pdu);
			send_all(pdu, sizeof(pdu));
			printf("unlink seq=%u\n", h.seqnum);
		} else if (strcmp(verb, "recv") == 0) {
			recv_reply(0, true);
		} else if (strcmp(verb, "raw") == 0) {
			char *rest = strtok_r(NULL, "\n", &save);
			if (rest)
				send_raw(rest);
		} else if (strcmp(verb, "expect-eof") == 0) {
			uint8_t b[4096];
			int rc;
			/* Replies still in flight are skipped. */
			while ((rc = recv_exact(b, 1, timeout_ms)) == 0)
				;
			printf(rc == 1 ? "eof\n" : "no-eof\n");
		} else if (strcmp(verb, "sleep") == 0) {
			char *t = strtok_r(NULL, " \t\n", &save);
			long ms = t ? strtol(t, NULL, 10) : 0;
			struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
			nanosleep(&ts, NULL);
		} else {
			die(64, "unknown script verb %s", verb);
		}
		fflush(stdout);
	}
	return 0;
}

static int do_raw(char *hex)
{
	uint8_t b[4096];
	int rc;
	size_t total = 0;

	send_raw(hex);
	printf("reply=");
	for (;;) {
		ssize_t n;
		rc = recv_exact(b, 1, timeout_ms);
		if (rc != 0)
			break;
		print_hex(b, 1);
		total++;
		n = recv(sock, b, sizeof(b), MSG_DONTWAIT);
		if (n > 0) {
			print_hex(b, (size_t)n);
			total += (size_t)n;
		}
	}
	printf("\nbytes=%zu %s\n", total, rc == 1 ? "eof" : "open");
	return 0;
}

int main(int argc, char **argv)
{
	int a = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (a + 1 < argc && strcmp(argv[a], "-t") == 0) {
		timeout_ms = atoi(argv[a + 1]);
		a += 2;
	}
	if (argc - a < 2)
		die(64, "usage: emu_probe [-t MS] ADDR list|import BUSID|run BUSID|urbs|raw HEX%s", "");
	sock = connect_to(argv[a]);
	const char *cmd = argv[a + 1];
	if (strcmp(cmd, "list") == 0)
		return do_list();
	if (strcmp(cmd, "import") == 0 && a + 2 < argc)
		return do_import(argv[a + 2]);
	if (strcmp(cmd, "run") == 0 && a + 2 < argc) {
		int rc = do_import(argv[a + 2]);
		return rc ? rc : run_script();
	}
	if (strcmp(cmd, "urbs") == 0)
		return run_script();
	if (strcmp(cmd, "raw") == 0 && a + 2 < argc)
		return do_raw(argv[a + 2]);
	die(64, "unknown command %s", cmd);
	return 64;
}
