/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Several transports as one device space (dfk_transport_multi_new): a farm
 * of USB/IP servers, say. Each device's path is its transport's name, "/",
 * and the path that transport gives it ("lab2:3240/1-4"), so that devices
 * of different servers with the same bus id stay apart. Every operation on
 * a device goes to the transport that listed it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

#define NAME_MAX_LEN 48 /* leaves room in dfk_usb_dev.path for "/BUS-PORT.PORT" */

struct multi_transport {
	dfk_transport **children;
	char (*names)[NAME_MAX_LEN + 1];
	size_t n;
};

/* The children's lists behind one list of the composite: kept until it is
 * freed, since each node's description and backend data are the child's. */
struct batch {
	dfk_usb_list *lists; /* one per child */
	size_t n;
};

/* dfk_usb_node.backend */
struct multi_node {
	struct batch *batch; /* set on the first node only: list_free frees it */
	size_t child;
	const dfk_usb_node *node; /* in batch->lists[child] */
};

struct multi_handle {
	dfk_usb *h; /* the child's handle */
};

static void batch_free(struct multi_transport *t, struct batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		if (t->children[i]->ops->list_free)
			t->children[i]->ops->list_free(t->children[i], &b->lists[i]);
	free(b->lists);
	free(b);
}

static void multi_destroy(dfk_transport *tp)
{
	struct multi_transport *t = dfk__transport_priv(tp);
	for (size_t i = 0; i < t->n; i++)
		dfk_transport_free(t->children[i]);
	free(t->children);
	free(t->names);
}

static void multi_list_free(dfk_transport *tp, dfk_usb_list *list)
{
	struct multi_transport *t = dfk__transport_priv(tp);
	struct batch *b = NULL;
	for (size_t i = 0; i < list->count; i++) {
		struct multi_node *mn = list->devs[i].backend;
		if (mn && mn->batch)
			b = mn->batch;
		free(mn);
	}
	batch_free(t, b);
	free(list->devs);
	list->devs = NULL;
	list->count = 0;
}

/* Which of t's children a composite path names, and the child's path
 * after the "/"; false when none. */
static bool split_path(const struct multi_transport *t, const char *path, size_t *child, const char **rest)
{
	size_t best = 0;
	bool found = false;
	/* The longest name that fits: names may hold "/" (unix:/run/a.sock). */
	for (size_t i = 0; i < t->n; i++) {
		size_t len = strlen(t->names[i]);
		if (strncmp(path, t->names[i], len) == 0 && path[len] == '/' && (!found || len > best)) {
			*child = i;
			*rest = path + len + 1;
			best = len;
			found = true;
		}
	}
	return found;
}

static dfk_code multi_enumerate(dfk_transport *tp, dfk_usb_list *list, dfk_error *err)
{
	struct multi_transport *t = dfk__transport_priv(tp);
	struct batch *b = calloc(1, sizeof(*b));
	if (!b || !(b->lists = calloc(t->n, sizeof(*b->lists)))) {
		free(b);
		return dfk_error_set(err, DFK_ERR_NOMEM, "out of memory");
	}
	b->n = t->n;

	/* Only the child a path names is asked (and only for that device). */
	size_t only = 0;
	const char *only_rest = NULL;
	bool restricted = tp->only_path[0] != '\0';
	if (restricted && !split_path(t, tp->only_path, &only, &only_rest)) {
		batch_free(t, b);
		return DFK_OK; /* no device of any child has that path */
	}
	size_t total = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (restricted && i != only)
			continue;
		dfk_code rc = dfk_transport_set_only_path(t->children[i], restricted ? only_rest : NULL, err);
		if (rc == DFK_OK)
			rc = dfk__transport_enumerate(t->children[i], &b->lists[i], err);
		if (rc) {
			batch_free(t, b);
			return dfk_error_prefix(err, "%s", t->names[i]);
		}
		total += b->lists[i].count;
	}
	if (total == 0) {
		batch_free(t, b);
		return DFK_OK;
	}
	list->devs = calloc(total, sizeof(*list->devs));
	if (!list->devs) {
		batch_free(t, b);
		return dfk_error_set(err, DFK_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < t->n; i++) {
		for (size_t k = 0; k < b->lists[i].count; k++) {
			const dfk_usb_node *cn = &b->lists[i].devs[k];
			size_t nlen = strlen(t->names[i]), plen = strlen(cn->dev.path);
			if (nlen + 1 + plen >= sizeof(cn->dev.path)) {
				dfk_log(tp->ctx, DFK_LOG_WARN, "%s: device at %s skipped: its path is too long",
					t->names[i], cn->dev.path);
				continue;
			}
			struct multi_node *mn = calloc(1, sizeof(*mn));
			if (!mn) {
				if (list->count == 0)
					batch_free(t, b);
				multi_list_free(tp, list);
				return dfk_error_set(err, DFK_ERR_NOMEM, "out of memory");
			}
			mn->batch = list->count == 0 ? b : NULL;
			mn->child = i;
			mn->node = cn;
			dfk_usb_node *n = &list->devs[list->count++];
			n->dev = cn->dev; /* the descriptions stay the child's */
			memcpy(n->dev.path, t->names[i], nlen);
			n->dev.path[nlen] = '/';
			memcpy(n->dev.path + nlen + 1, cn->dev.path, plen + 1);
			n->backend = mn;
		}
	}
	if (list->count == 0) { /* every device skipped: no node holds the batch */
		batch_free(t, b);
		free(list->devs);
		list->devs = NULL;
	}
	return DFK_OK;
}

static dfk_code multi_open(dfk_transport *tp, const dfk_usb_node *node, dfk_usb *hb, dfk_error *err)
{
	struct multi_transport *t = dfk__transport_priv(tp);
	struct multi_handle *h = dfk__usb_priv(hb);
	const struct multi_node *mn = node->backend;
	if (!mn)
		return dfk_error_set(err, DFK_ERR_SOFTWARE, "%s: not a device of this transport", node->dev.path);
	return dfk_usb_open(t->children[mn->child], &mn->node->dev, &h->h, err);
}

static void multi_close(dfk_usb *hb)
{
	struct multi_handle *h = dfk__usb_priv(hb);
	dfk_usb_close(h->h);
	h->h = NULL;
}

/* The child's operations directly: the core's wrappers (and the trace)
 * ran already for the composite's handle. */
static dfk_code multi_control(dfk_usb *hb, const dfk_setup *setup, uint8_t *data, size_t *actual, unsigned timeout_ms,
			      dfk_error *err)
{
	dfk_usb *c = ((struct multi_handle *)dfk__usb_priv(hb))->h;
	return c->ops->control(c, setup, data, actual, timeout_ms, err);
}

static dfk_code multi_claim(dfk_usb *hb, uint8_t intf, dfk_error *err)
{
	dfk_usb *c = ((struct multi_handle *)dfk__usb_priv(hb))->h;
	return c->ops->claim(c, intf, err);
}

static void multi_release(dfk_usb *hb, uint8_t intf)
{
	dfk_usb *c = ((struct multi_handle *)dfk__usb_priv(hb))->h;
	c->ops->release(c, intf);
}

static dfk_code multi_set_alt(dfk_usb *hb, uint8_t intf, uint8_t alt, dfk_error *err)
{
	dfk_usb *c = ((struct multi_handle *)dfk__usb_priv(hb))->h;
	return c->ops->set_alt(c, intf, alt, err);
}

static dfk_code multi_reset(dfk_usb *hb, dfk_error *err)
{
	dfk_usb *c = ((struct multi_handle *)dfk__usb_priv(hb))->h;
	return c->ops->reset(c, err);
}

static const dfk_transport_ops multi_ops = {
    .name = "multi",
    .transport_size = sizeof(struct multi_transport),
    .handle_size = sizeof(struct multi_handle),
    .destroy = multi_destroy,
    .enumerate = multi_enumerate,
    .list_free = multi_list_free,
    .open = multi_open,
    .close = multi_close,
    .control = multi_control,
    .claim = multi_claim,
    .release = multi_release,
    .set_alt = multi_set_alt,
    .reset = multi_reset,
};

dfk_code dfk_transport_multi_new(dfk_transport **out, const struct dfk_ctx *ctx, dfk_transport *const *children,
				 const char *const *names, size_t n, dfk_error *err)
{
	if (!out)
		return dfk_error_set(err, DFK_ERR_USAGE, "no place for the transport");
	*out = NULL;
	if (!ctx || !children || !names || n == 0)
		return dfk_error_set(err, DFK_ERR_USAGE, "a combined transport needs a context and transports");
	for (size_t i = 0; i < n; i++) {
		if (!children[i] || !names[i] || !*names[i])
			return dfk_error_set(err, DFK_ERR_USAGE, "transport %zu of %zu has no transport or no name",
					     i + 1, n);
		if (strlen(names[i]) > NAME_MAX_LEN || names[i][strlen(names[i]) - 1] == '/')
			return dfk_error_set(err, DFK_ERR_USAGE,
					     "transport name \"%.60s\" is too long (at most %d bytes) or ends in /",
					     names[i], NAME_MAX_LEN);
		for (size_t k = 0; k < i; k++)
			if (strcmp(names[i], names[k]) == 0)
				return dfk_error_set(err, DFK_ERR_USAGE, "two transports are named \"%s\"", names[i]);
	}
	dfk_transport *tp;
	dfk_code rc = dfk__transport_new(&multi_ops, ctx, &tp, err);
	if (rc)
		return rc;
	struct multi_transport *t = dfk__transport_priv(tp);
	t->children = calloc(n, sizeof(*t->children));
	t->names = calloc(n, sizeof(*t->names));
	if (!t->children || !t->names) {
		dfk_transport_free(tp); /* the children stay the caller's */
		return dfk_error_set(err, DFK_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		t->children[i] = children[i];
		snprintf(t->names[i], sizeof(t->names[i]), "%s", names[i]);
	}
	t->n = n;
	*out = tp;
	return DFK_OK;
}
