/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The DfuSe command job: mass erase, read unprotect and leave, without a
 * download or an upload. */
#include <stdio.h>

#include "job_internal.h"

dfk_code dfk_job_dfuse_command(dfk_dev *dev, const dfk_job_opts *opts, dfk_error *err)
{
	DFK_ERR_ENSURE(err);
	dfk_job_opts copy;
	const dfk_job_opts *o = &copy;
	dfk_code code = dfk__job_opts_read(opts, &copy, err);

	if (!code)
		code = dfk__job_check_force(o, err);
	char what[80], where[48];
	bool resetting;

	if (code)
		return code;
	if (!o->mass_erase && !o->unprotect && !o->leave)
		return dfk_error_set(err, DFK_ERR_USAGE,
				     "nothing to do: a DfuSe command is leave, mass erase or read unprotect");
	dfk__job_leave_where(o->has_address, o->address, where, sizeof(where));
	snprintf(what, sizeof(what), "%s%s%s%s",
		 o->unprotect	 ? "read unprotect"
		 : o->mass_erase ? "mass erase"
				 : "",
		 !o->unprotect && o->mass_erase && o->leave ? " and " : "", !o->unprotect && o->leave ? "leave " : "",
		 !o->unprotect && o->leave ? where : "");
	code = dfk__job_dfuse_begin(dev, o, what, &resetting, err);
	if (code || resetting)
		return code;
	if (o->mass_erase) {
		code = dfk__job_mass_erase(dev, err);
		if (code)
			return code;
	}
	if (o->leave)
		return dfk_job_leave(dev, o->has_address, o->address, err);
	return DFK_OK;
}
