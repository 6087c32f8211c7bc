/* SPDX-License-Identifier: Apache-2.0 */
/* CHiredis: hiredis (Debian libhiredis-dev), the Redis client behind the
 * shared state ("shared_state" in the config), brought into Swift. Only the
 * blocking, non-variadic calls are used (redisCommandArgv and friends). */
#ifndef CHIREDIS_SHIM_H
#define CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif
