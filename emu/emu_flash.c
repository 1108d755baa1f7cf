/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The device's memories and the rules of NOR flash: erase sets a page to
 * 0xFF, programming can only clear bits, rights come from the memory map.
 *
 * --memory FILE layout: the raw bytes of every alt setting's memory back to
 * back in alt-setting order (the profile's order), each memory being its
 * memory-map segments in string order (plain DFU: one block of its size).
 * No header: `dd` or `cmp` work on it directly. A missing file is created
 * with every memory in its fresh state (flash 0xFF, option bytes at their
 * factory values: the description's contents); an existing file must have
 * exactly the device's size.
 * The file is mapped MAP_SHARED, so what was programmed survives even a
 * killed emulator; emu_device_free syncs it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu_internal.h"

static bool parse_dec(const char **pp, uint64_t *v)
{
	const char *p = *pp;
	uint64_t x = 0;
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9') {
		x = x * 10 + (uint64_t)(*p - '0');
		if (x > 0xFFFFFFFFu)
			return false;
		p++;
	}
	*pp = p;
	*v = x;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool emu_memmap_parse(const char *s, emu_seg *segs, size_t maxsegs, size_t *nsegs, uint64_t *total)
{
	*nsegs = 0;
	*total = 0;
	if (!s || s[0] != '@')
		return false;
	const char *p = strchr(s, '/');
	if (!p)
		return false;
	while (*p == '/') {
		p++;
		if (p[0] != '0' || (p[1] != 'x' && p[1] != 'X'))
			return false;
		p += 2;
		uint64_t addr = 0;
		int digits = 0;
		for (int h; (h = hexval(*p)) >= 0; p++) {
			addr = addr * 16 + (uint64_t)h;
			if (++digits > 8)
				return false;
		}
		if (digits == 0 || *p != '/')
			return false;
		p++;
		for (;;) {
			uint64_t count, size;
			if (!parse_dec(&p, &count) || *p != '*')
				return false;
			p++;
			if (!parse_dec(&p, &size))
				return false;
			if (*p == 'K')
				size *= 1024, p++;
			else if (*p == 'M')
				size *= 1024 * 1024, p++;
			else if (*p == 'B' || *p == ' ')
				p++;
			if (*p < 'a' || *p > 'g')
				return false;
			uint8_t rights = (uint8_t)(*p - 'a' + 1);
			p++;
			uint64_t bytes = count * size;
			if (count == 0 || size == 0 || addr + bytes > 0x100000000ull || *nsegs >= maxsegs)
				return false;
			segs[*nsegs] = (emu_seg){(uint32_t)addr, (uint32_t)count, (uint32_t)size, rights, *total};
			(*nsegs)++;
			*total += bytes;
			addr += bytes;
			if (*p != ',')
				break;
			p++;
		}
	}
	return *p == '\0' && *nsegs > 0;
}

const emu_seg *emu_flash_seg(const emu_mem *m, uint64_t addr)
{
	for (size_t i = 0; i < m->nsegs; i++) {
		const emu_seg *s = &m->segs[i];
		if (addr >= s->start && addr - s->start < (uint64_t)s->count * s->page)
			return s;
	}
	return NULL;
}

uint8_t *emu_flash_ptr(const emu_mem *m, uint64_t addr)
{
	const emu_seg *s = emu_flash_seg(m, addr);
	return s ? m->data + s->off + (addr - s->start) : NULL;
}

bool emu_flash_range_ok(const emu_mem *m, uint64_t addr, uint64_t len, uint8_t need)
{
	uint64_t end = addr + len;
	while (addr < end) {
		const emu_seg *s = emu_flash_seg(m, addr);
		if (!s || (s->rights & need) != need)
			return false;
		addr = (uint64_t)s->start + (uint64_t)s->count * s->page; /* rest of this segment is fine */
	}
	return true;
}

uint8_t emu_flash_program(emu_device *dev, emu_mem *m, uint64_t addr, const uint8_t *data, uint32_t len)
{
	bool bits_only = m->def->kind == EMU_MEM_FLASH || m->def->kind == EMU_MEM_OTP;
	if (bits_only && !emu_quirk(dev, EMU_Q_WRITE_UNERASED_ANDS)) {
		/* The chip checks before it programs (STM32 PGERR/PROGERR). */
		for (uint32_t i = 0; i < len; i++) {
			uint8_t *p = emu_flash_ptr(m, addr + i);
			if (!p)
				return DFK_STATUS_ERR_ADDRESS;
			if ((*p & data[i]) != data[i])
				return DFK_STATUS_ERR_WRITE;
		}
	}
	for (uint32_t i = 0; i < len; i++) {
		uint8_t *p = emu_flash_ptr(m, addr + i);
		if (!p)
			return DFK_STATUS_ERR_ADDRESS;
		*p = bits_only ? (uint8_t)(*p & data[i]) : data[i];
	}
	return DFK_STATUS_OK;
}

uint32_t emu_flash_erase_page(emu_device *dev, emu_mem *m, uint64_t addr)
{
	const emu_seg *s = emu_flash_seg(m, addr);
	if (!s || !(s->rights & EMU_E))
		return 0;
	uint64_t idx = (addr - s->start) / s->page;
	memset(m->data + s->off + idx * s->page, 0xFF, s->page);
	dev->stats.erased_pages++;
	return s->page;
}

uint64_t emu_flash_mass_erase(emu_device *dev)
{
	uint64_t bytes = 0;
	for (size_t a = 0; a < dev->nmem; a++) {
		emu_mem *m = &dev->mem[a];
		if (m->def->kind != EMU_MEM_FLASH)
			continue;
		for (size_t i = 0; i < m->nsegs; i++) {
			const emu_seg *s = &m->segs[i];
			if (!(s->rights & EMU_E))
				continue;
			memset(m->data + s->off, 0xFF, (size_t)s->count * s->page);
			dev->stats.erased_pages += s->count;
			bytes += (uint64_t)s->count * s->page;
		}
	}
	return bytes;
}

static uint32_t sat32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

uint32_t emu_flash_erase_ms(const emu_device *dev, uint64_t bytes)
{
	const emu_timing_def *t = &dev->prof->t;
	for (size_t i = 0; i < t->nerase; i++)
		if (t->erase_sizes[i] == bytes)
			return t->erase_ms[i];
	return sat32(t->erase_base_ms + (bytes / 1024 * t->erase_us_per_kib + 999) / 1000);
}

uint32_t emu_flash_prog_ms(const emu_device *dev, uint64_t bytes)
{
	return sat32((bytes * dev->prof->t.prog_ns_per_byte + 999999) / 1000000);
}

void emu_flash_fill_initial(emu_mem *m)
{
	memset(m->data, m->def->fill, m->size);
	for (size_t i = 0; i < m->def->npatches; i++)
		memcpy(m->data + m->def->patches[i].off, m->def->patches[i].data, m->def->patches[i].len);
}

bool emu_flash_init(emu_device *dev, const emu_config *cfg, char *errbuf, size_t errsz)
{
	const char *path = cfg->memory_path;
	const emu_profile *p = dev->prof;
	uint64_t total = 0;
	dev->memfd = -1;
	dev->nmem = p->nalts;
	for (size_t a = 0; a < p->nalts; a++) {
		emu_mem *m = &dev->mem[a];
		m->def = &p->alts[a];
		memcpy(m->segs, m->def->segs, m->def->nsegs * sizeof m->segs[0]);
		m->nsegs = m->def->nsegs;
		m->size = m->def->size;
		if (!p->dfuse) {
			/* plain DFU: pages erased as a download first touches them */
			m->npages = m->segs[0].count;
			m->touched = calloc(m->npages, 1);
			if (!m->touched) {
				snprintf(errbuf, errsz, "out of memory");
				return false;
			}
		}
		total += m->size;
	}
	dev->memsize = total;

	bool fresh = true;
	if (path) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0) {
			snprintf(errbuf, errsz, "cannot open memory file %s: %s", path, strerror(errno));
			return false;
		}
		struct stat st;
		if (fstat(fd, &st) < 0) {
			snprintf(errbuf, errsz, "cannot stat memory file %s: %s", path, strerror(errno));
			close(fd);
			return false;
		}
		if (st.st_size == 0) {
			if (ftruncate(fd, (off_t)total) < 0) {
				snprintf(errbuf, errsz, "cannot size memory file %s: %s", path, strerror(errno));
				close(fd);
				return false;
			}
		} else if ((uint64_t)st.st_size != total) {
			snprintf(errbuf, errsz, "memory file %s has %lld bytes but device %s needs %llu", path,
				 (long long)st.st_size, p->name, (unsigned long long)total);
			close(fd);
			return false;
		} else {
			fresh = false;
		}
		void *map = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED) {
			snprintf(errbuf, errsz, "cannot map memory file %s: %s", path, strerror(errno));
			close(fd);
			return false;
		}
		dev->memfd = fd;
		dev->mapped = true;
		dev->membuf = map;
	} else if (cfg->memory && cfg->memory_size >= total) {
		dev->membuf = cfg->memory;
		dev->borrowed = true;
	} else {
		dev->membuf = malloc(total);
		if (!dev->membuf) {
			snprintf(errbuf, errsz, "out of memory for %llu bytes of device memory",
				 (unsigned long long)total);
			return false;
		}
	}
	uint64_t off = 0;
	for (size_t a = 0; a < dev->nmem; a++) {
		dev->mem[a].data = dev->membuf + off;
		off += dev->mem[a].size;
		if (fresh)
			emu_flash_fill_initial(&dev->mem[a]);
	}
	return true;
}

void emu_flash_close(emu_device *dev)
{
	if (dev->mapped) {
		msync(dev->membuf, dev->memsize, MS_SYNC);
		munmap(dev->membuf, dev->memsize);
	} else if (!dev->borrowed) {
		free(dev->membuf);
	}
	if (dev->memfd >= 0)
		close(dev->memfd);
	for (size_t a = 0; a < dev->nmem; a++)
		free(dev->mem[a].touched);
	dev->membuf = NULL;
}
