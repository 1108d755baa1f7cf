/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit -l: dfu-util's line format, which many wrappers scrape, in its
 * order (dfu-util builds its list by prepending, so the last interface found
 * is printed first), with device strings sanitised. */
#include <string.h>

#include "tool.h"

static void print_text(const dfk_dfu_if *ifc)
{
	char name[256], serial[256], path[64];
	tool_sanitize(ifc->dev->path, path, sizeof(path));
	tool_sanitize(ifc->name[0] ? ifc->name : "UNKNOWN", name, sizeof(name));
	tool_sanitize(ifc->serial[0] ? ifc->serial : "UNKNOWN", serial, sizeof(serial));
	printf("Found %s: [%04x:%04x] ver=%04x, devnum=%u, cfg=%u, intf=%u, path=\"%s\", alt=%u, name=\"%s\", "
	       "serial=\"%s\"\n",
	       ifc->dfu_mode ? "DFU" : "Runtime", ifc->dev->desc.idVendor, ifc->dev->desc.idProduct,
	       ifc->dev->desc.bcdDevice, ifc->dev->devnum, ifc->config, ifc->intf, path, ifc->alt, name, serial);
}

static void print_json(const dfk_dfu_if *ifc)
{
	char buf[256];
	printf("{\"event\":\"device\",\"mode\":\"%s\",\"vid\":\"%04x\",\"pid\":\"%04x\",\"ver\":\"%04x\",\"devnum\":%u,"
	       "\"cfg\":%u,\"intf\":%u,\"path\":",
	       ifc->dfu_mode ? "dfu" : "runtime", ifc->dev->desc.idVendor, ifc->dev->desc.idProduct,
	       ifc->dev->desc.bcdDevice, ifc->dev->devnum, ifc->config, ifc->intf);
	tool_sanitize(ifc->dev->path, buf, sizeof(buf));
	tool_json_string(stdout, buf);
	printf(",\"alt\":%u,\"name\":", ifc->alt);
	tool_sanitize(ifc->name, buf, sizeof(buf));
	tool_json_string(stdout, buf);
	printf(",\"serial\":");
	tool_sanitize(ifc->serial, buf, sizeof(buf));
	tool_json_string(stdout, buf);
	printf(",\"dfu_version\":\"%04x\",\"transfer_size\":%u,\"attributes\":%u}\n", ifc->func.bcdDFUVersion,
	       ifc->func.wTransferSize, ifc->func.bmAttributes);
}

void tool_list_print(tool_ui *ui, const dfk_found *found)
{
	for (size_t i = dfk_found_count(found); i-- > 0;) {
		if (ui->json)
			print_json(dfk_found_get(found, i));
		else
			print_text(dfk_found_get(found, i));
	}
	fflush(stdout);
}
