/* libdfukit: USB Device Firmware Upgrade (DFU 1.0/1.1, ST DfuSe 1.1a).
 * Include this one header for the whole API. */
#ifndef DFUKIT_DFUKIT_H
#define DFUKIT_DFUKIT_H

#include "dfukit/export.h"

#include "dfukit/device.h"
#include "dfukit/dfu.h"
#include "dfukit/error.h"
#include "dfukit/formats.h"
#include "dfukit/image.h"
#include "dfukit/memmap.h"
#include "dfukit/transport.h"
#include "dfukit/usb.h"
#include "dfukit/version.h"

#endif
