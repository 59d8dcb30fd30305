/*
 * banned.h - functions that must not be used in cyberpact. Included by every
 * translation unit of the library and binary through the build (-include).
 */
#ifndef CYBERPACT_BANNED_H
#define CYBERPACT_BANNED_H

#define CP_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) CP_BANNED(strcpy)
#undef strcat
#define strcat(x, y) CP_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) CP_BANNED(strncpy)
#undef sprintf
#define sprintf(...) CP_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) CP_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) CP_BANNED(strtok)
#undef gmtime
#define gmtime(t) CP_BANNED(gmtime)
#undef localtime
#define localtime(t) CP_BANNED(localtime)
#undef atoi
#define atoi(x) CP_BANNED(atoi)
#undef atol
#define atol(x) CP_BANNED(atol)
#undef gets
#define gets(x) CP_BANNED(gets)

#endif
