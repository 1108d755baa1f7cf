/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* ELF32/ELF64 input: the bytes of each PT_LOAD segment at its physical
 * address (p_paddr), as `objcopy -O binary` and flash programmers place them.
 *
 * The headers are read with elfutils' libelf (Debian libelf-dev, linked into
 * dfukit_formats through pkg-config libelf): it handles both classes and both
 * byte orders. Segment bounds are still checked here against the buffer,
 * because libelf leaves program header contents to the caller. */
#include <gelf.h>
#include <libelf.h>
#include <string.h>

#include "dfukit/formats.h"

dfk_code dfk_elf_parse(const uint8_t *buf, size_t len, dfk_image *img, dfk_error *err)
{
	Elf *elf;
	GElf_Ehdr eh;
	size_t phnum = 0, loaded = 0;
	dfk_code rc = DFK_OK;

	if (len < EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG) != 0)
		return dfk_error_set(err, DFK_ERR_DATA, "offset 0: not an ELF file (no \\x7fELF signature)");
	if (buf[EI_CLASS] != ELFCLASS32 && buf[EI_CLASS] != ELFCLASS64)
		return dfk_error_set(err, DFK_ERR_DATA, "offset %d: unknown ELF class %u", EI_CLASS, buf[EI_CLASS]);
	if (buf[EI_DATA] != ELFDATA2LSB && buf[EI_DATA] != ELFDATA2MSB)
		return dfk_error_set(err, DFK_ERR_DATA, "offset %d: unknown ELF byte order %u", EI_DATA, buf[EI_DATA]);
	if (len < (buf[EI_CLASS] == ELFCLASS64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
		return dfk_error_set(err, DFK_ERR_DATA, "offset 0: truncated ELF header (%zu bytes)", len);
	/* elf_version() only records the API version the caller speaks; it is idempotent. */
	if (elf_version(EV_CURRENT) == EV_NONE)
		return dfk_error_set(err, DFK_ERR_SOFTWARE, "libelf: %s", elf_errmsg(-1));
	/* elf_memory() takes a non-const pointer but, opened for reading, copies
	 * whatever it must byte-swap instead of converting in place. */
	elf = elf_memory((char *)(uintptr_t)buf, len);
	if (!elf)
		return dfk_error_set(err, DFK_ERR_DATA, "offset 0: not a readable ELF file: %s", elf_errmsg(-1));
	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
		rc = dfk_error_set(err, DFK_ERR_DATA, "offset 0: bad ELF header: %s", elf_errmsg(-1));
		goto out;
	}
	if (elf_getphdrnum(elf, &phnum) != 0) {
		rc = dfk_error_set(err, DFK_ERR_DATA, "offset 0x%llx: bad program header table: %s",
				   (unsigned long long)eh.e_phoff, elf_errmsg(-1));
		goto out;
	}
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph)) {
			rc = dfk_error_set(err, DFK_ERR_DATA, "program header %zu (table at offset 0x%llx): %s", i,
					   (unsigned long long)eh.e_phoff, elf_errmsg(-1));
			goto out;
		}
		if (ph.p_type != PT_LOAD || ph.p_filesz == 0)
			continue;
		if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset) {
			rc = dfk_error_set(err, DFK_ERR_DATA,
					   "program header %zu: segment at file offset 0x%llx, size 0x%llx, passes the "
					   "end of the file (%zu bytes)",
					   i, (unsigned long long)ph.p_offset, (unsigned long long)ph.p_filesz, len);
			goto out;
		}
		if (ph.p_filesz > ph.p_memsz) {
			rc = dfk_error_set(err, DFK_ERR_DATA,
					   "program header %zu: file size 0x%llx is larger than memory size 0x%llx", i,
					   (unsigned long long)ph.p_filesz, (unsigned long long)ph.p_memsz);
			goto out;
		}
		if (ph.p_paddr > 0xffffffffull || ph.p_filesz > 0x100000000ull - ph.p_paddr) {
			rc =
			    dfk_error_set(err, DFK_ERR_DATA,
					  "program header %zu: segment at physical address 0x%llx, size 0x%llx, passes "
					  "the 4 GiB address space",
					  i, (unsigned long long)ph.p_paddr, (unsigned long long)ph.p_filesz);
			goto out;
		}
		rc = dfk_image_add(img, (uint32_t)ph.p_paddr, buf + ph.p_offset, (size_t)ph.p_filesz, err);
		if (rc != DFK_OK) {
			dfk_error_prefix(err, "program header %zu", i);
			goto out;
		}
		loaded++;
	}
	if (loaded == 0)
		rc = dfk_error_set(err, DFK_ERR_DATA, "no loadable data (no PT_LOAD segment with file contents)");
out:
	elf_end(elf);
	return rc;
}
