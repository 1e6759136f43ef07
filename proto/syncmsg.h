#ifndef SYNCMSG_H
#define SYNCMSG_H

/*
 * Sync messages (PROTOCOL.md section 9): what two nodes say to each other
 * over ZeroMQ.  Each message is one ZeroMQ frame: a version byte, a type
 * byte, a 32-bit request id (big-endian; replies echo it), then the
 * payload.  This module builds and strictly parses frames; it knows
 * nothing of sockets or stores.
 */

#include <stddef.h>
#include <stdint.h>

#include "kith.h"

struct record;

#define SYNCMSG_VERSION		1
#define SYNCMSG_HDR_LEN		6		/* version, type, request id */
#define SYNCMSG_FRAME_MAX	(4U << 20)	/* largest frame either side sends or takes */
#define SYNCMSG_RECORDS_MAX	(1U << 20)	/* payload a RECORDS or PUSH frame aims for */
#define SYNCMSG_GET_MAX		4096		/* ids in one GET */
#define SYNCMSG_NAME_MAX	64		/* node name bytes in HELLO/WELCOME */
#define SYNCMSG_TEXT_MAX	256		/* ERROR text bytes */
#define SYNCMSG_NOBODY		0xffffU		/* entry body length: no body */

/* Message types.  Requests go client to server; replies have bit 7 set. */
enum {
	SYNCMSG_HELLO = 0x01,
	SYNCMSG_RECON = 0x02,
	SYNCMSG_GET = 0x03,
	SYNCMSG_PULL = 0x04,
	SYNCMSG_PUSH = 0x05,
	SYNCMSG_BYE = 0x06,
	SYNCMSG_WELCOME = 0x81,
	SYNCMSG_RECON_REPLY = 0x82,
	SYNCMSG_RECORDS = 0x83,
	SYNCMSG_PUSHED = 0x85,
	SYNCMSG_ERROR = 0xff,
};

/* RECORDS flags. */
#define SYNCMSG_MORE		0x01	/* more RECORDS frames answer this request */
#define SYNCMSG_RESUME		0x02	/* the PULL range continues at the bound given */

/* HELLO flags. */
#define SYNCMSG_HELLO_BULK	0x01	/* client pulls ranges it holds nothing in */

/* A (hlc, id) position in the reconciliation order. */
struct syncmsg_bound {
	uint64_t hlc;
	uint8_t id[KITH_ID_LEN];
};

/* A parsed frame; pointers borrow from the frame. */
struct syncmsg {
	uint8_t type;
	uint32_t reqid;
	const uint8_t *payload;
	size_t len;
};

/* HELLO and WELCOME. */
struct syncmsg_hello {
	uint8_t network[KITH_NETWORK_LEN];
	uint8_t flags;			/* HELLO */
	uint8_t key[KITH_KEY_LEN];	/* HELLO: the client's ed25519 node key */
	uint64_t records;		/* WELCOME: records the server holds */
	uint64_t clock_ms;		/* the sender's wall clock, ms */
	uint16_t port;			/* HELLO: the client's sync port; 0 */
	char name[SYNCMSG_NAME_MAX + 1];
};

/* A growable frame under construction; the first failure sticks. */
struct syncmsg_buf {
	uint8_t *p;
	size_t len, cap;
	int err;
};

/**
 * syncmsg_parse(frame, len, out):
 * Check the frame header of the ${len} bytes at ${frame} and fill ${*out}.
 * Return 0, KITH_ETRUNC (shorter than a header), KITH_ETOOBIG (over
 * SYNCMSG_FRAME_MAX), KITH_EVERSION or KITH_ETYPE (unknown type).  The
 * payload is checked by the parser of its type.
 */
int syncmsg_parse(const uint8_t *frame, size_t len, struct syncmsg *out);

/**
 * syncmsg_hello_parse(m, out):
 * Parse the payload of a HELLO (network, flags, the client's key, clock,
 * sync port, name) or WELCOME (network, record count, clock, name) ${m}
 * into ${*out}.  Return 0,
 * KITH_ETRUNC, KITH_ETRAILING, KITH_ETOOBIG (name too long) or KITH_EINVAL
 * (name not printable UTF-8 without control characters).
 */
int syncmsg_hello_parse(const struct syncmsg *m, struct syncmsg_hello *out);

/**
 * syncmsg_pull_parse(m, lo, hi):
 * Parse a PULL's range [${lo}, ${hi}).  Return 0, KITH_ETRUNC,
 * KITH_ETRAILING or KITH_ERANGE (${lo} not below ${hi}).
 */
int syncmsg_pull_parse(const struct syncmsg *m, struct syncmsg_bound *lo,
    struct syncmsg_bound *hi);

/**
 * syncmsg_get_parse(m, ids, n):
 * Point ${*ids} at a GET's ${*n} ids.  Return 0, KITH_ETRUNC (not a whole
 * number of ids, or none) or KITH_ETOOBIG (over SYNCMSG_GET_MAX).
 */
int syncmsg_get_parse(const struct syncmsg *m, const uint8_t **ids,
    size_t *n);

/**
 * syncmsg_pushed_parse(m, added, duplicate, rejected):
 * Parse a PUSHED reply.  Return 0, KITH_ETRUNC or KITH_ETRAILING.
 */
int syncmsg_pushed_parse(const struct syncmsg *m, uint32_t *added,
    uint32_t *duplicate, uint32_t *rejected);

/**
 * syncmsg_error_parse(m, code, text, size):
 * Parse an ERROR: set ${*code} to its (negative) KITH_E* code and copy its
 * text, bytes outside printable ASCII replaced by '?', to ${text} (${size} bytes,
 * NUL-terminated).  Return 0, KITH_ETRUNC or KITH_ETOOBIG.
 */
int syncmsg_error_parse(const struct syncmsg *m, int *code, char *text,
    size_t size);

/* Iteration over the record entries of a RECORDS or PUSH payload. */
struct syncmsg_records {
	const uint8_t *p;
	size_t len, off;
	uint8_t flags;			/* RECORDS flags; 0 for PUSH */
	struct syncmsg_bound resume;	/* if flags has SYNCMSG_RESUME */
};

/**
 * syncmsg_records_start(m, it):
 * Begin iterating over the entries of the RECORDS or PUSH ${m}.  Return
 * 0, KITH_ETRUNC or KITH_ETYPE (flags with unknown bits).
 */
int syncmsg_records_start(const struct syncmsg *m,
    struct syncmsg_records *it);

/**
 * syncmsg_records_next(it, out):
 * Decode the next entry into a new record ${*out} (the caller frees it;
 * the signature is not checked).  Return 0, 1 after the last entry,
 * KITH_ETRUNC, KITH_ETOOBIG, or a record_decode error.
 */
int syncmsg_records_next(struct syncmsg_records *it, struct record **out);

/**
 * syncmsg_begin(b, type, reqid):
 * Start a frame of ${type} for request ${reqid} in ${b}, which must be
 * zeroed or reset; the frame is ${b}->p, ${b}->len once ${b}->err is 0.
 */
void syncmsg_begin(struct syncmsg_buf *b, uint8_t type, uint32_t reqid);

/**
 * syncmsg_put(b, p, n):
 * Append ${n} raw payload bytes.
 */
void syncmsg_put(struct syncmsg_buf *b, const void *p, size_t n);

/**
 * syncmsg_put_hello(b, hello, welcome):
 * Append the payload of a HELLO (${welcome} 0) or WELCOME (1).
 */
void syncmsg_put_hello(struct syncmsg_buf *b,
    const struct syncmsg_hello *hello, int welcome);

/**
 * syncmsg_put_bound(b, bound):
 * Append a 40-byte bound.
 */
void syncmsg_put_bound(struct syncmsg_buf *b,
    const struct syncmsg_bound *bound);

/**
 * syncmsg_put_u32(b, v):
 * Append ${v} big-endian.
 */
void syncmsg_put_u32(struct syncmsg_buf *b, uint32_t v);

/**
 * syncmsg_put_error(b, code, text):
 * Append an ERROR payload: ${code} (a KITH_E* code) and ${text}, cut to
 * SYNCMSG_TEXT_MAX bytes.
 */
void syncmsg_put_error(struct syncmsg_buf *b, int code, const char *text);

/**
 * syncmsg_entry_len(rec):
 * Return the bytes ${rec} takes as an entry.
 */
size_t syncmsg_entry_len(const struct record *rec);

/**
 * syncmsg_put_record(b, rec):
 * Append ${rec} as an entry, with its body if it has one.
 */
void syncmsg_put_record(struct syncmsg_buf *b, const struct record *rec);

/**
 * syncmsg_records_begin(b, reqid):
 * Start a RECORDS frame answering ${reqid}; append entries with
 * syncmsg_put_record, then call syncmsg_records_finish.
 */
void syncmsg_records_begin(struct syncmsg_buf *b, uint32_t reqid);

/**
 * syncmsg_records_len(b):
 * Return the entry bytes in the RECORDS frame being built in ${b}.
 */
size_t syncmsg_records_len(const struct syncmsg_buf *b);

/**
 * syncmsg_records_finish(b, flags, resume):
 * Complete the RECORDS frame in ${b} with ${flags}, and ${resume} if they
 * include SYNCMSG_RESUME.
 */
void syncmsg_records_finish(struct syncmsg_buf *b, uint8_t flags,
    const struct syncmsg_bound *resume);

/**
 * syncmsg_buf_reset(b):
 * Empty ${b}, keeping its memory.
 */
void syncmsg_buf_reset(struct syncmsg_buf *b);

/**
 * syncmsg_buf_free(b):
 * Free ${b}'s memory.
 */
void syncmsg_buf_free(struct syncmsg_buf *b);

/**
 * syncmsg_bound_cmp(a, b):
 * Compare two bounds in (hlc, id) order: <0, 0 or >0.
 */
int syncmsg_bound_cmp(const struct syncmsg_bound *a,
    const struct syncmsg_bound *b);

#endif
