/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Cancel acceptance: a 256 KiB download to dfukit-emu (stm32f405, real
 * timing) over USB/IP runs on one thread; another cancels it after about
 * 300 ms. The job must return DFK_ERR_CANCELLED within one second of the
 * cancel and leave the device in dfuIDLE. Public API only (dfukit.h).
 *   test_cancel_usbip PATH/TO/dfukit-emu */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dfukit/dfukit.h"

#define KIB 1024u
#define BASE 0x08000000u

static int failures;

#define CHECK(cond, ...)                                                                                               \
	do {                                                                                                           \
		if (!(cond)) {                                                                                         \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                           \
			fprintf(stderr, __VA_ARGS__);                                                                  \
			fputc('\n', stderr);                                                                           \
			failures++;                                                                                    \
		}                                                                                                      \
	} while (0)

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Starts the emulator, its stderr into log, and waits for its ready line. */
static pid_t start_emu(const char *emu, const char *sock, const char *mem, const char *log)
{
	char listen[512];
	pid_t pid;

	snprintf(listen, sizeof(listen), "unix:%s", sock);
	pid = fork();
	if (pid == 0) {
		if (!freopen(log, "w", stderr))
			_exit(127);
		execl(emu, emu, "--profile", "stm32f405", "--timing", "real", "--listen", listen, "--memory", mem,
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; pid > 0 && i < 3000; i++) {
		char buf[4096] = {0};
		FILE *f = fopen(log, "r");
		if (f) {
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);
			buf[n] = 0;
			fclose(f);
		}
		if (strstr(buf, "listening on") && access(sock, F_OK) == 0)
			return pid;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			break;
		sleep_ms(10);
	}
	fprintf(stderr, "dfukit-emu did not start (see %s)\n", log);
	return -1;
}

struct job {
	dfk_dev *dev;
	const dfk_firmware *fw;
	dfk_job_opts opts;
	dfk_error err;
	dfk_code code;
	uint64_t end_ms;
};

static void *run_job(void *arg)
{
	struct job *j = arg;
	j->code = dfk_job_download(j->dev, j->fw, &j->opts, &j->err);
	j->end_ms = now_ms();
	return NULL;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/dfukit-cancel.XXXXXX", sock[128], mem[128], log[256];
	dfk_transport *t = NULL;
	dfk_found *found = NULL;
	dfk_dev *dev = NULL;
	dfk_firmware fw;
	dfk_target *tgt;
	dfk_error err = {0};
	dfk_match m;
	dfk_ctx *ctx = NULL;
	struct job j;
	pthread_t th;
	uint8_t *data;
	uint64_t cancel_ms;
	pid_t emu;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH/TO/dfukit-emu\n", argv[0]);
		return 2;
	}
	if (!mkdtemp(dir))
		return 2;
	snprintf(sock, sizeof(sock), "%s/sock", dir);
	snprintf(mem, sizeof(mem), "%s/mem.bin", dir);
	snprintf(log, sizeof(log), "%s/emu.log", dir);
	emu = start_emu(argv[1], sock, mem, log);
	if (emu < 0)
		return 1;

	CHECK(dfk_ctx_new(&ctx, &err) == DFK_OK, "context: %s", err.msg);
	data = malloc(256 * KIB);
	for (size_t i = 0; i < 256 * KIB; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	dfk_firmware_init(&fw);
	fw.format = DFK_FORMAT_RAW;
	fw.addressed = true;
	tgt = dfk_firmware_add_target(&fw, 0, NULL, &err);
	CHECK(tgt && dfk_image_add(&tgt->image, BASE, data, 256 * KIB, &err) == DFK_OK, "firmware: %s", err.msg);

	snprintf(log, sizeof(log), "unix:%s", sock);
	CHECK(dfk_transport_usbip_new(&t, ctx, log, &err) == DFK_OK, "transport: %s", err.msg);
	dfk_match_init(&m);
	m.alt = 0;
	CHECK(t && dfk_find(ctx, t, &m, &found, &err) == DFK_OK && dfk_found_count(found) > 0, "find: %s", err.msg);
	CHECK(dfk_found_count(found) > 0 && dfk_dev_open(ctx, dfk_found_get(found, 0), &dev, &err) == DFK_OK,
	      "open: %s", err.msg);
	if (failures)
		goto out;

	memset(&j, 0, sizeof(j));
	j.dev = dev;
	j.fw = &fw;
	dfk_job_opts_init(&j.opts);
	if (pthread_create(&th, NULL, run_job, &j) != 0) {
		CHECK(0, "pthread_create");
		goto out;
	}
	sleep_ms(300);
	cancel_ms = now_ms();
	dfk_ctx_cancel(ctx);
	pthread_join(th, NULL);
	printf("job returned %s after %llu ms: %s\n", dfk_code_name(j.code), (unsigned long long)(j.end_ms - cancel_ms),
	       j.err.msg);
	CHECK(j.code == DFK_ERR_CANCELLED, "the job returned %s (%s), not cancelled", dfk_code_name(j.code), j.err.msg);
	CHECK(j.end_ms - cancel_ms < 1000, "the job returned %llu ms after the cancel",
	      (unsigned long long)(j.end_ms - cancel_ms));
	CHECK(strstr(j.err.msg, "cancelled while") != NULL, "the message does not say where: %s", j.err.msg);

	/* The device is in dfuIDLE: asked through the library, after the
	 * cancel request is cleared. */
	dfk_ctx_cancel_reset(ctx);
	{
		dfk_status st;
		uint8_t state = 0xFF;
		CHECK(dfk_dfu_get_status(dev, &st, &err) == DFK_OK, "GETSTATUS: %s", err.msg);
		CHECK(st.state == DFK_STATE_IDLE && st.status == DFK_STATUS_OK, "device status %s in %s",
		      dfk_status_name(st.status), dfk_state_name(st.state));
		CHECK(dfk_dfu_get_state(dev, &state, &err) == DFK_OK, "GETSTATE: %s", err.msg);
		CHECK(state == DFK_STATE_IDLE, "GETSTATE says %s", dfk_state_name(state));
	}
	/* And the same device takes a whole download afterwards. */
	j.opts.verify = true;
	CHECK(dfk_job_download(dev, &fw, &j.opts, &err) == DFK_OK, "download after the cancel: %s", err.msg);

out:
	dfk_dev_close(dev);
	dfk_found_free(found);
	if (t)
		dfk_transport_free(t);
	dfk_ctx_free(ctx);
	dfk_firmware_free(&fw);
	free(data);
	kill(emu, SIGTERM);
	waitpid(emu, NULL, 0);
	unlink(sock);
	unlink(mem);
	snprintf(log, sizeof(log), "%s/emu.log", dir);
	unlink(log);
	rmdir(dir);
	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	return failures ? 1 : 0;
}
