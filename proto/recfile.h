#ifndef RECFILE_H
#define RECFILE_H

/*
 * The records file: how records travel outside the sync protocol (export,
 * import, a network's charter).  "KITHRECS", a version byte, the 32-byte
 * network id, then entries of u32 signed-header length, signed header, u32
 * body length (0xffffffff: no body), body.  Lengths are big-endian.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kith.h"

struct record;

#define RECFILE_MAGIC		"KITHRECS"
#define RECFILE_VERSION		1
#define RECFILE_NOBODY		0xffffffffU

/**
 * recfile_write_start(f, network):
 * Write the file header for ${network} to ${f}.  Return 0 or KITH_EIO.
 */
int recfile_write_start(FILE *f, const uint8_t network[KITH_NETWORK_LEN]);

/**
 * recfile_write(f, rec):
 * Append ${rec} (with its body, if it has one) to ${f}; 0 or KITH_EIO.
 */
int recfile_write(FILE *f, const struct record *rec);

/**
 * recfile_read_start(f, network):
 * Read and check the file header, setting ${network}.  Return 0, KITH_EIO,
 * KITH_ETRUNC (file too short), KITH_ETYPE (not a records file) or
 * KITH_EVERSION.
 */
int recfile_read_start(FILE *f, uint8_t network[KITH_NETWORK_LEN]);

/**
 * recfile_read(f, out):
 * Read the next entry into a new record ${*out}, which the caller frees.
 * Return 0, 1 at a clean end of file, or KITH_ETRUNC, KITH_ETOOBIG, a
 * record_decode error, or KITH_EIO.  The record's signature is not checked.
 */
int recfile_read(FILE *f, struct record **out);

#endif
