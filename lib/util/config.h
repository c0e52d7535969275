/* Internal access to the parameter table and typed reads of a config.
 * A NULL config reads defaults everywhere. */
#ifndef RI_CONFIG_H
#define RI_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "recint.h"

typedef enum {
#define RI_PARAM(id, key, type, def, range, group, owner, stability, help) RI_P_##id,
#include "util/params.def"
#undef RI_PARAM
    RI_P_COUNT
} ri_param_id;

int64_t ri_cfg_int(const recint_config *cfg, ri_param_id id);
double ri_cfg_float(const recint_config *cfg, ri_param_id id);
int ri_cfg_bool(const recint_config *cfg, ri_param_id id);
/* choice and string values; the pointer lives as long as cfg (static for NULL). */
const char *ri_cfg_str(const recint_config *cfg, ri_param_id id);
int ri_cfg_is_set(const recint_config *cfg, ri_param_id id);
/* EINVAL naming the key and its owner when cfg sets a key that belongs to
 * kinds other than kind (params.def's owner column); what prefixes the
 * message. Keys of core, explore and simulate are every kind's. */
int ri_cfg_check_kind(const recint_config *cfg, const char *kind, const char *what);
/* Position of choice parameter id's value among names (n of them), -1 when it
 * is none of them or id is not a choice. A reader lists, in the order of its
 * own enum, the names it understands: choices are matched by name, so adding
 * one to params.def or reordering them there shifts nobody's meaning, and a
 * value meant for another kind comes back -1 for the caller to refuse. */
int ri_cfg_pick(const recint_config *cfg, ri_param_id id, const char *const *names, size_t n);
#define RI_CFG_PICK(cfg, id, names) ri_cfg_pick(cfg, id, names, sizeof(names) / sizeof((names)[0]))

#endif
