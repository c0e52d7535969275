/* Internal access to the parameter table and typed reads of a config.
 * A NULL config reads defaults everywhere. */
#ifndef RI_CONFIG_H
#define RI_CONFIG_H

#include <stdint.h>

#include "recint.h"

typedef enum {
#define RI_PARAM(id, key, type, def, range, group, help) RI_P_##id,
#include "params.def"
#undef RI_PARAM
    RI_P_COUNT
} ri_param_id;

int64_t ri_cfg_int(const recint_config *cfg, ri_param_id id);
double ri_cfg_float(const recint_config *cfg, ri_param_id id);
int ri_cfg_bool(const recint_config *cfg, ri_param_id id);
/* choice and string values; the pointer lives as long as cfg (static for NULL). */
const char *ri_cfg_str(const recint_config *cfg, ri_param_id id);
int ri_cfg_is_set(const recint_config *cfg, ri_param_id id);
/* Position of a choice parameter's value among the choices of its range text in
 * params.def ("sum|last|max": sum 0, last 1, max 2), so that C code maps choices
 * to enums declared in the same order instead of re-listing the names.
 * -1 when id is not a choice parameter (a config only ever holds listed values). */
int ri_cfg_choice(const recint_config *cfg, ri_param_id id);

#endif
