/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* USB/IP wire format: byte-exact layouts from protocols.md C.2/C.3, round
 * trips, hostile headers, and full-length I/O over short reads/writes. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "usbip_wire.h"

static void test_op_common(void **state)
{
	(void)state;
	uint8_t buf[DFK_USBIP_OP_COMMON_LEN];
	dfk_usbip_op op = {DFK_USBIP_VERSION, DFK_USBIP_OP_REQ_DEVLIST, 0}, back;
	dfk_error err = {0};
	const uint8_t want[] = {0x01, 0x11, 0x80, 0x05, 0, 0, 0, 0};

	dfk_usbip_op_pack(&op, buf);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(dfk_usbip_op_unpack(buf, &back, &err), DFK_OK);
	assert_int_equal(back.code, DFK_USBIP_OP_REQ_DEVLIST);

	op.code = DFK_USBIP_OP_REP_IMPORT;
	op.status = DFK_USBIP_ST_NODEV;
	dfk_usbip_op_pack(&op, buf);
	assert_int_equal(buf[7], 4);
	assert_int_equal(dfk_usbip_op_unpack(buf, &back, &err), DFK_OK);
	assert_int_equal(back.status, DFK_USBIP_ST_NODEV);

	buf[1] = 0x06; /* version 0x0106 */
	assert_int_equal(dfk_usbip_op_unpack(buf, &back, &err), DFK_ERR_PROTOCOL);
	assert_non_null(strstr(err.msg, "0x0106"));
}

static void test_device(void **state)
{
	(void)state;
	uint8_t buf[DFK_USBIP_DEVICE_LEN];
	dfk_usbip_device d = {0}, back;

	strcpy(d.path, "/sys/devices/platform/dfukit-emu/usb1/1-1");
	strcpy(d.busid, "1-1");
	d.busnum = 1;
	d.devnum = 2;
	d.speed = DFK_USBIP_SPEED_FULL;
	d.idVendor = 0x0483;
	d.idProduct = 0xdf11;
	d.bcdDevice = 0x2200;
	d.bDeviceClass = 0;
	d.bConfigurationValue = 1;
	d.bNumConfigurations = 1;
	d.bNumInterfaces = 1;
	memset(buf, 0xAA, sizeof(buf));
	dfk_usbip_device_pack(&d, buf);
	/* Offsets from the table in protocols.md C.2. */
	assert_string_equal((char *)buf + 0x100, "1-1");
	assert_int_equal(buf[0xFF], 0);
	assert_int_equal(buf[0x11F], 0);
	assert_int_equal(buf[0x123], 1);
	assert_int_equal(buf[0x127], 2);
	assert_int_equal(buf[0x12B], 2);
	assert_int_equal(buf[0x12C], 0x04);
	assert_int_equal(buf[0x12D], 0x83);
	assert_int_equal(buf[0x12E], 0xdf);
	assert_int_equal(buf[0x12F], 0x11);
	assert_int_equal(buf[0x130], 0x22);
	assert_int_equal(buf[0x135], 1);
	assert_int_equal(buf[0x137], 1);

	dfk_usbip_device_unpack(buf, &back);
	assert_string_equal(back.path, d.path);
	assert_string_equal(back.busid, "1-1");
	assert_int_equal(back.busnum, 1);
	assert_int_equal(back.devnum, 2);
	assert_int_equal(back.idProduct, 0xdf11);
	assert_int_equal(back.bcdDevice, 0x2200);

	/* Unterminated strings from a hostile peer are cut, not overrun. */
	memset(buf, 'x', 0x120);
	dfk_usbip_device_unpack(buf, &back);
	assert_int_equal(strlen(back.path), 255);
	assert_int_equal(strlen(back.busid), 31);
}

static void test_interface(void **state)
{
	(void)state;
	uint8_t buf[DFK_USBIP_INTERFACE_LEN] = {9, 9, 9, 9};
	dfk_usbip_interface i = {0xFE, 0x01, 0x02}, back;

	dfk_usbip_interface_pack(&i, buf);
	assert_int_equal(buf[0], 0xFE);
	assert_int_equal(buf[2], 0x02);
	assert_int_equal(buf[3], 0);
	dfk_usbip_interface_unpack(buf, &back);
	assert_int_equal(back.bInterfaceClass, 0xFE);
	assert_int_equal(back.bInterfaceSubClass, 1);
	assert_int_equal(back.bInterfaceProtocol, 2);
}

/* The DFU_GETSTATUS example of protocols.md C.4, byte for byte. */
static void test_submit_example(void **state)
{
	(void)state;
	const uint8_t want[48] = {0, 0, 0, 1, 0, 0, 0, 5, 0, 1, 0, 2, 0, 0, 0, 1, 0,	0, 0, 0, 0, 0, 2, 0,
				  0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xA1, 3, 0, 0, 0, 0, 6, 0};
	dfk_usbip_header h = {0}, back;
	uint8_t buf[48];
	dfk_error err = {0};

	h.command = DFK_USBIP_CMD_SUBMIT;
	h.seqnum = 5;
	h.devid = 0x00010002;
	h.direction = DFK_USBIP_DIR_IN;
	h.u.submit.transfer_flags = 0x200;
	h.u.submit.transfer_buffer_length = 6;
	memcpy(h.u.submit.setup, (uint8_t[]){0xA1, 3, 0, 0, 0, 0, 6, 0}, 8);
	dfk_usbip_header_pack(&h, buf);
	assert_memory_equal(buf, want, 48);

	assert_int_equal(dfk_usbip_header_unpack(buf, &back, &err), DFK_OK);
	assert_int_equal(back.command, DFK_USBIP_CMD_SUBMIT);
	assert_int_equal(back.seqnum, 5);
	assert_int_equal(back.devid, 0x00010002);
	assert_int_equal(back.direction, 1);
	assert_int_equal(back.u.submit.transfer_flags, 0x200);
	assert_int_equal(back.u.submit.transfer_buffer_length, 6);
	assert_memory_equal(back.u.submit.setup, want + 40, 8);
}

static void test_ret_and_unlink(void **state)
{
	(void)state;
	dfk_usbip_header h = {0}, back;
	uint8_t buf[48];
	dfk_error err = {0};

	h.command = DFK_USBIP_RET_SUBMIT;
	h.seqnum = 7;
	h.u.ret_submit.status = -DFK_USBIP_EPIPE;
	h.u.ret_submit.actual_length = 0;
	dfk_usbip_header_pack(&h, buf);
	assert_memory_equal(buf + 0x14, ((uint8_t[]){0xFF, 0xFF, 0xFF, 0xE0}), 4);
	assert_int_equal(dfk_usbip_header_unpack(buf, &back, &err), DFK_OK);
	assert_int_equal(back.u.ret_submit.status, -32);

	memset(&h, 0, sizeof(h));
	h.command = DFK_USBIP_CMD_UNLINK;
	h.seqnum = 9;
	h.u.unlink.seqnum = 8;
	dfk_usbip_header_pack(&h, buf);
	assert_int_equal(buf[0x17], 8);
	assert_int_equal(dfk_usbip_header_unpack(buf, &back, &err), DFK_OK);
	assert_int_equal(back.u.unlink.seqnum, 8);

	memset(&h, 0, sizeof(h));
	h.command = DFK_USBIP_RET_UNLINK;
	h.seqnum = 9;
	h.u.ret_unlink.status = -DFK_USBIP_ECONNRESET;
	dfk_usbip_header_pack(&h, buf);
	assert_memory_equal(buf + 0x14, ((uint8_t[]){0xFF, 0xFF, 0xFF, 0x98}), 4);
	for (int i = 0x18; i < 48; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(dfk_usbip_header_unpack(buf, &back, &err), DFK_OK);
	assert_int_equal(back.u.ret_unlink.status, -104);
}

static void test_hostile_headers(void **state)
{
	(void)state;
	dfk_usbip_header h = {0}, back;
	uint8_t buf[48];
	dfk_error err = {0};

	h.command = DFK_USBIP_RET_SUBMIT;
	h.u.ret_submit.actual_length = -1;
	dfk_usbip_header_pack(&h, buf);
	assert_int_equal(dfk_usbip_header_unpack(buf, &back, &err), DFK_ERR_PROTOCOL);

	h.u.ret_submit.actual_length = 16 * 1024 * 1024 + 1;
	dfk_usbip_header_pack(&h, buf);
	assert_int_equal(dfk_usbip_header_unpack(buf, &back, &err), DFK_ERR_PROTOCOL);
	assert_non_null(strstr(err.msg, "actual_length"));

	h.u.ret_submit.actual_length = 16 * 1024 * 1024;
	dfk_usbip_header_pack(&h, buf);
	assert_int_equal(dfk_usbip_header_unpack(buf, &back, &err), DFK_OK);

	memset(&h, 0, sizeof(h));
	h.command = DFK_USBIP_CMD_SUBMIT;
	h.u.submit.transfer_buffer_length = INT32_MIN;
	dfk_usbip_header_pack(&h, buf);
	assert_int_equal(dfk_usbip_header_unpack(buf, &back, &err), DFK_ERR_PROTOCOL);
	h.u.submit.transfer_buffer_length = INT32_MAX;
	dfk_usbip_header_pack(&h, buf);
	assert_int_equal(dfk_usbip_header_unpack(buf, &back, &err), DFK_ERR_PROTOCOL);

	memset(buf, 0, sizeof(buf));
	for (uint32_t cmd = 0; cmd < 16; cmd++) {
		buf[3] = (uint8_t)cmd;
		dfk_code want = (cmd >= 1 && cmd <= 4) ? DFK_OK : DFK_ERR_PROTOCOL;
		assert_int_equal(dfk_usbip_header_unpack(buf, &back, &err), want);
	}
	memset(buf, 0xFF, sizeof(buf));
	assert_int_equal(dfk_usbip_header_unpack(buf, &back, &err), DFK_ERR_PROTOCOL);
	assert_non_null(strstr(err.msg, "0xffffffff"));
}

/* A writer child that dribbles bytes one at a time exercises short reads. */
static void test_read_write_full(void **state)
{
	(void)state;
	int sv[2];
	uint8_t out[100000], in[100000];
	dfk_error err = {0};

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		for (int i = 0; i < 10; i++)
			if (write(sv[1], out + i, 1) != 1)
				_exit(1);
		_exit(dfk_usbip_write_full(sv[1], out + 10, sizeof(out) - 10, NULL) == DFK_OK ? 0 : 1);
	}
	close(sv[1]);
	assert_int_equal(dfk_usbip_read_full(sv[0], in, sizeof(in), &err), DFK_OK);
	assert_memory_equal(in, out, sizeof(out));
	/* Then EOF: the peer is gone. */
	assert_int_equal(dfk_usbip_read_full(sv[0], in, 1, &err), DFK_ERR_NODEV);
	close(sv[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Non-blocking descriptors on both ends: EAGAIN means wait, not fail. */
static void test_nonblocking(void **state)
{
	(void)state;
	int sv[2];
	static uint8_t out[300000], in[300000];
	dfk_error err = {0};

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i ^ (i >> 8));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		_exit(dfk_usbip_write_full(sv[1], out, sizeof(out), NULL) == DFK_OK ? 0 : 1);
	}
	close(sv[1]);
	assert_int_equal(dfk_usbip_read_full(sv[0], in, sizeof(in), &err), DFK_OK);
	assert_memory_equal(in, out, sizeof(out));
	close(sv[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_write_to_closed_peer(void **state)
{
	(void)state;
	int sv[2];
	uint8_t b[64] = {0};
	dfk_error err = {0};

	/* Without MSG_NOSIGNAL this would kill the test with SIGPIPE. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	assert_int_equal(dfk_usbip_write_full(sv[0], b, sizeof(b), &err), DFK_ERR_NODEV);
	close(sv[0]);

	/* A pipe is not a socket: write() is used instead of send(). */
	int pfd[2];
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(dfk_usbip_write_full(pfd[1], b, sizeof(b), &err), DFK_OK);
	assert_int_equal(dfk_usbip_read_full(pfd[0], b, sizeof(b), &err), DFK_OK);
	close(pfd[0]);
	close(pfd[1]);
	assert_int_equal(dfk_usbip_read_full(-1, b, 1, &err), DFK_ERR_IO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_op_common),	    cmocka_unit_test(test_device),
	    cmocka_unit_test(test_interface),	    cmocka_unit_test(test_submit_example),
	    cmocka_unit_test(test_ret_and_unlink),  cmocka_unit_test(test_hostile_headers),
	    cmocka_unit_test(test_read_write_full), cmocka_unit_test(test_write_to_closed_peer),
	    cmocka_unit_test(test_nonblocking),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
