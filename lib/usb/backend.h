/* libdfukit's USB layer, private: what the core and the transport backends
 * share (not part of the public API). */
#ifndef DFUKIT_BACKEND_H
#define DFUKIT_BACKEND_H

#include "dfukit/transport.h"

/* Deep copy of a device description (configurations and their alt
 * settings); dst->backend is left NULL. Free with dfk__usb_dev_clear. */
dfk_code dfk__usb_dev_copy(dfk_usb_dev *dst, const dfk_usb_dev *src, dfk_error *err);
/* Frees what dfk__usb_dev_copy allocated (not dst itself). */
void dfk__usb_dev_clear(dfk_usb_dev *d);

#endif
