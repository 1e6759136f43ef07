#ifndef NEGENTROPY_H
#define NEGENTROPY_H

/*
 * Negentropy protocol V1 (hoytech/negentropy, docs/negentropy-protocol-v1.md):
 * range-based set reconciliation over items of (timestamp, 32-byte id).
 * The client calls negentropy_initiate, sends the message, and feeds each
 * server reply to negentropy_reconcile_client until that produces no
 * message.  The server feeds each client message to negentropy_reconcile
 * and sends back what it returns.  Messages are byte strings; framing and
 * transport belong to the caller.
 */

#include <stddef.h>
#include <stdint.h>

#define NEGENTROPY_VERSION	0x61	/* protocol version byte of V1 */
#define NEGENTROPY_ID_LEN	32
#define NEGENTROPY_FP_LEN	16	/* fingerprint bytes on the wire */
#define NEGENTROPY_SUM_LEN	32	/* an id sum: 256-bit little-endian */
#define NEGENTROPY_VARINT_MAX	10	/* bytes of the longest uint64 varint */
#define NEGENTROPY_FRAME_MIN	4096	/* smallest nonzero frame size limit */

/* Sorted ascending by timestamp, then by id bytewise; no duplicates. */
struct negentropy_item {
	uint64_t timestamp;	/* UINT64_MAX is reserved for "infinity" */
	uint8_t id[NEGENTROPY_ID_LEN];
};

/*
 * A set the engine reads through, for one held elsewhere than in one
 * array (a store's fingerprint tree): ${n} items in the order above.
 * Each call returns 0 or an error code, which the engine passes on.
 *   items:       copy items [lo, hi), lo < hi <= n, to ${out}.
 *   sum:         write the sum of the ids of items [lo, hi), lo < hi <= n,
 *                as 256-bit little-endian integers mod 2^256, to ${out}.
 *   lower_bound: set ${*at} to the index of the first item not below
 *                (${ts}, ${id}), or n.
 */
struct negentropy_source {
	size_t n;
	int (*items)(void *arg, size_t lo, size_t hi,
	    struct negentropy_item *out);
	int (*sum)(void *arg, size_t lo, size_t hi,
	    uint8_t out[NEGENTROPY_SUM_LEN]);
	int (*lower_bound)(void *arg, uint64_t ts,
	    const uint8_t id[NEGENTROPY_ID_LEN], size_t *at);
	void *arg;
};

/* One side of a reconciliation. */
struct negentropy;

/**
 * negentropy_varint_encode(v, out):
 * Write ${v} as a Negentropy varint (base 128, most significant digit
 * first, shortest form) to ${out}, which holds NEGENTROPY_VARINT_MAX bytes.
 * Return the number of bytes written.
 */
size_t negentropy_varint_encode(uint64_t v, uint8_t *out);

/**
 * negentropy_varint_decode(in, len, v, used):
 * Decode one varint from the ${len} bytes at ${in} into ${*v} and set
 * ${*used} to its length.  Return 0, KITH_ETRUNC if ${in} ends inside it,
 * KITH_ENONCANON for a leading zero digit, or KITH_ERANGE if it exceeds
 * 64 bits.
 */
int negentropy_varint_decode(const uint8_t *in, size_t len, uint64_t *v,
    size_t *used);

/**
 * negentropy_fingerprint(items, n, out):
 * Write the fingerprint of the ${n} items at ${items} to
 * ${out}[NEGENTROPY_FP_LEN]: the first 16 bytes of SHA-256 over the sum of
 * the ids (256-bit little-endian, mod 2^256) followed by varint(${n}).
 */
void negentropy_fingerprint(const struct negentropy_item *items, size_t n,
    uint8_t *out);

/**
 * negentropy_fingerprint_sum(sum, n, out):
 * Write the fingerprint of ${n} items whose ids sum to ${sum} to
 * ${out}[NEGENTROPY_FP_LEN].
 */
void negentropy_fingerprint_sum(const uint8_t sum[NEGENTROPY_SUM_LEN],
    uint64_t n, uint8_t *out);

/**
 * negentropy_sum_add(acc, x), negentropy_sum_sub(acc, x):
 * Add ${x} to, or subtract it from, the sum ${acc}, mod 2^256.  An id is
 * its own sum.
 */
void negentropy_sum_add(uint8_t acc[NEGENTROPY_SUM_LEN],
    const uint8_t x[NEGENTROPY_SUM_LEN]);
void negentropy_sum_sub(uint8_t acc[NEGENTROPY_SUM_LEN],
    const uint8_t x[NEGENTROPY_SUM_LEN]);

/**
 * negentropy_message_check(msg, len, nranges):
 * Strictly validate the ${len}-byte message ${msg} without acting on it;
 * if ${nranges} is not NULL set ${*nranges} to its number of ranges.
 * Return 0, KITH_ETRUNC (empty, or ends inside a range; or an IdList
 * claims more ids than bytes remain), KITH_EVERSION (first byte is not
 * NEGENTROPY_VERSION), KITH_ETYPE (unknown mode), KITH_ERANGE (varint over
 * 64 bits, id prefix over 32 bytes, timestamp past the reserved maximum),
 * or KITH_ENONCANON (non-minimal varint, bounds not strictly ascending, a
 * range after the infinity bound other than one Fingerprint of the empty
 * set to infinity: the frame-limit close V1 senders append after an IdList
 * that reached infinity, which is accepted).
 */
int negentropy_message_check(const uint8_t *msg, size_t len, size_t *nranges);

/**
 * negentropy_new(items, n, frame_size_limit):
 * Return a reconciliation state over the ${n} items at ${items}, which the
 * caller keeps alive and unchanged until negentropy_free.  Outgoing
 * messages never exceed ${frame_size_limit} bytes (0 = unlimited, else at
 * least NEGENTROPY_FRAME_MIN).  Return NULL if out of memory, if the limit
 * is too small, or if ${items} is not strictly sorted or uses the reserved
 * timestamp UINT64_MAX.
 */
struct negentropy *negentropy_new(const struct negentropy_item *items,
    size_t n, size_t frame_size_limit);

/**
 * negentropy_set_items(ng, items, n):
 * Point ${ng} at a new item array (the set changed between messages; V1
 * keeps no other state across them), on the terms of negentropy_new.
 * Return 0, or KITH_EINVAL if ${items} is not strictly sorted.
 */
int negentropy_set_items(struct negentropy *ng,
    const struct negentropy_item *items, size_t n);

/**
 * negentropy_new_source(src, frame_size_limit):
 * As negentropy_new, over the set ${src} describes (copied; its ${arg}
 * must stay valid until the next negentropy_set_source or
 * negentropy_free).  The source is trusted to be sorted.
 */
struct negentropy *negentropy_new_source(const struct negentropy_source *src,
    size_t frame_size_limit);

/**
 * negentropy_set_source(ng, src):
 * Point ${ng} at the set ${src} describes, on the terms of
 * negentropy_new_source; as negentropy_set_items, between messages.
 */
void negentropy_set_source(struct negentropy *ng,
    const struct negentropy_source *src);

/**
 * negentropy_set_policy(ng, idlist_below, bulk):
 * Send ranges of fewer than ${idlist_below} items as IdLists (0 for the
 * reference's 32); more means fewer round trips and more bytes.  Under a
 * frame size limit the value is capped so an IdList fits in one frame
 * (about (limit - 300) / 32: 118 at the smallest limit).  If
 * ${bulk}, a client that holds nothing in a range the server describes
 * answers with a Skip and keeps the range for negentropy_take_pulls, so
 * the caller can fetch it whole instead of id by id.  Both are choices of
 * one side; the messages stay V1.
 */
void negentropy_set_policy(struct negentropy *ng, size_t idlist_below,
    int bulk);

/**
 * negentropy_take_pulls(ng, out, n):
 * Hand over the ranges a bulk client found since the last call: ${*n}
 * pairs of bounds [${*out}[2i], ${*out}[2i+1]) in a malloc'd array (NULL
 * if none), the caller's to free.  A bound is a timestamp and an id
 * zero-padded after its prefix; timestamp UINT64_MAX is infinity.
 */
int negentropy_take_pulls(struct negentropy *ng,
    struct negentropy_item **out, size_t *n);

/**
 * negentropy_initiate(ng, msg, len):
 * Make ${ng} the client and write its first message to ${*msg}, ${*len}
 * bytes, malloc'd and the caller's to free.  Return 0, KITH_ENOMEM, or
 * KITH_EINVAL if ${ng} was already used.
 */
int negentropy_initiate(struct negentropy *ng, uint8_t **msg, size_t *len);

/**
 * negentropy_reconcile(ng, in, inlen, out, outlen):
 * Server side: answer the client message ${in} (${inlen} bytes) with
 * ${*out}, ${*outlen} bytes, malloc'd and the caller's to free.  A reply
 * of only the version byte means the server saw nothing left to do; it
 * must still be sent.  Return 0, KITH_ENOMEM, KITH_EINVAL if ${ng} is a
 * client, or an error of negentropy_message_check.  On KITH_EVERSION the
 * spec asks the server to reply with the single byte NEGENTROPY_VERSION.
 * On error ${*out} is NULL.
 */
int negentropy_reconcile(struct negentropy *ng, const uint8_t *in,
    size_t inlen, uint8_t **out, size_t *outlen);

/**
 * negentropy_reconcile_client(ng, in, inlen, out, outlen, have, nhave,
 *     need, nneed):
 * Client side: process the server reply ${in} (${inlen} bytes).  Set
 * ${*have} to the ${*nhave} ids the client has and the server lacks, and
 * ${*need} to the ${*nneed} ids the server has and the client lacks, each
 * found in this round (malloc'd arrays, NULL when empty, the caller's to
 * free).  Set ${*out}, ${*outlen} to the next message to send (malloc'd,
 * the caller's), or ${*out} to NULL and ${*outlen} to 0 when
 * reconciliation is complete.  Return 0, KITH_ENOMEM, KITH_EINVAL if ${ng}
 * did not initiate, or an error of negentropy_message_check; on error all
 * outputs are NULL/0.
 */
int negentropy_reconcile_client(struct negentropy *ng, const uint8_t *in,
    size_t inlen, uint8_t **out, size_t *outlen,
    uint8_t (**have)[NEGENTROPY_ID_LEN], size_t *nhave,
    uint8_t (**need)[NEGENTROPY_ID_LEN], size_t *nneed);

/**
 * negentropy_free(ng):
 * Free ${ng}; the item array stays the caller's.  NULL is ignored.
 */
void negentropy_free(struct negentropy *ng);

#endif
