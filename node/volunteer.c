/*
 * Volunteers.
 */

#include <string.h>
#include <strings.h>

#include "actor.h"
#include "body.h"
#include "field.h"
#include "state.h"
#include "store.h"
#include "volunteer.h"

/*
 * Check and write the values ${in} for volunteer ${id} (whose state is
 * ${s}), or a new one if ${id} is NULL.
 */
static int
write_volunteer(struct actor *a, const uint8_t *id, const struct state *s,
    const struct field_in *in, size_t n)
{
	const char *dbs = field_value(in, n, "dbs");
	const char *checked = field_value(in, n, "dbs-checked");
	struct body *b;
	int rc;

	/* A DBS check needs its date, given now or already on record. */
	if (dbs != NULL && *dbs != '\0' && strcasecmp(dbs, "none") != 0 &&
	    checked == NULL &&
	    (s == NULL || state_get(s, "dbs_checked") == NULL))
		return actor_fail(a, KITH_EINVAL, "--dbs %s needs --dbs-checked "
		    "YYYY-MM-DD", dbs);
	if (checked != NULL && dbs == NULL &&
	    (s == NULL || state_get(s, "dbs") == NULL))
		return actor_fail(a, KITH_EINVAL, "--dbs-checked needs --dbs");
	if ((b = body_new()) == NULL)
		return actor_fail(a, KITH_ENOMEM, "out of memory");
	if ((rc = field_set_all(b, field_defs(KITH_KIND_VOLUNTEER), in, n,
	    id != NULL, a->why, sizeof(a->why))) == 0)
		rc = id == NULL ? actor_create(a, KITH_KIND_VOLUNTEER, NULL, b) :
		    actor_write(a, KITH_KIND_VOLUNTEER, id, NULL, NULL, b);
	body_free(b);
	return rc;
}

int
volunteer_add(struct actor *a, const struct field_in *in, size_t n)
{

	if (field_value(in, n, "name") == NULL ||
	    field_value(in, n, "area") == NULL)
		return actor_fail(a, KITH_EINVAL, "--name and --area are "
		    "required");
	return write_volunteer(a, NULL, NULL, in, n);
}

int
volunteer_update(struct actor *a, const uint8_t id[KITH_ENTITY_LEN],
    const struct field_in *in, size_t n)
{
	struct state *s = NULL;
	int rc;

	if (n == 0)
		return actor_fail(a, KITH_EINVAL, "nothing to update: give at "
		    "least one field option");
	if ((rc = store_state(a->st, id, &s)) != 0)
		return actor_fail(a, rc, "%s", kith_strerror(rc));
	rc = write_volunteer(a, id, s, in, n);
	state_free(s);
	return rc;
}
