/*
 * common.h - what every libcyberpact and cyberpact .c file includes, LAST (after its
 * system headers), because it ends with banned.h.
 */
#ifndef CYBERPACT_COMMON_H
#define CYBERPACT_COMMON_H

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cyberpact/base.h"
#include "cyberpact/limits.h"

#define CP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#include "banned.h"

#endif
