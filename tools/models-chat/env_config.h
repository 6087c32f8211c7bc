/* SPDX-License-Identifier: Apache-2.0 */
/* The router config models-chat builds from the environment when it is given
 * no --config file: one provider per API key that is set. */
#ifndef MODELS_CHAT_ENV_CONFIG_H
#define MODELS_CHAT_ENV_CONFIG_H

#include <stdio.h>

/* A router config (JSON text, malloc'd; the caller frees it) whose primary is
 * `model` when it is not NULL, else the preferred provider whose key is set,
 * and whose fallbacks are the default models of the other providers whose keys
 * are set. Returns NULL when no key is set and `model` is NULL. */
char *env_config_build(const char *model);

/* Prints the table of variables and default models, for --help. */
void env_config_describe(FILE *out);

#endif
