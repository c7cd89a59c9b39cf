/* Small string utilities: trim, split, replace and a case-insensitive compare. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Trims leading and trailing whitespace in place; returns s. */
char *str_trim(char *s) {
    char *start = s;
    while (*start && isspace((unsigned char)*start)) {
        start++;
    }
    size_t len = strlen(start);
    while (len > 0 && isspace((unsigned char)start[len - 1])) {
        len--;
    }
    memmove(s, start, len);
    s[len] = '\0';
    return s;
}

/* Splits s at each sep; returns a NULL-terminated array the caller frees with free_split. */
char **str_split(const char *s, char sep, size_t *count) {
    size_t parts = 1;
    for (const char *p = s; *p; p++) {
        if (*p == sep) {
            parts++;
        }
    }
    char **out = calloc(parts + 1, sizeof *out);
    if (out == NULL) {
        return NULL;
    }
    size_t n = 0;
    const char *begin = s;
    for (const char *p = s;; p++) {
        if (*p == sep || *p == '\0') {
            size_t len = (size_t)(p - begin);
            out[n] = malloc(len + 1);
            memcpy(out[n], begin, len);
            out[n][len] = '\0';
            n++;
            if (*p == '\0') {
                break;
            }
            begin = p + 1;
        }
    }
    if (count != NULL) {
        *count = n;
    }
    return out;
}

void free_split(char **parts) {
    for (char **p = parts; p != NULL && *p != NULL; p++) {
        free(*p);
    }
    free(parts);
}

/* Returns a new string with every occurrence of from replaced by to. */
char *str_replace(const char *s, const char *from, const char *to) {
    size_t from_len = strlen(from), to_len = strlen(to), hits = 0;
    if (from_len == 0) {
        return strdup(s);
    }
    for (const char *p = strstr(s, from); p != NULL; p = strstr(p + from_len, from)) {
        hits++;
    }
    char *out = malloc(strlen(s) + hits * (to_len - from_len) + 1);
    if (out == NULL) {
        return NULL;
    }
    char *w = out;
    const char *p;
    while ((p = strstr(s, from)) != NULL) {
        memcpy(w, s, (size_t)(p - s));
        w += p - s;
        memcpy(w, to, to_len);
        w += to_len;
        s = p + from_len;
    }
    strcpy(w, s);
    return out;
}

int str_casecmp(const char *a, const char *b) {
    for (;; a++, b++) {
        int ca = tolower((unsigned char)*a), cb = tolower((unsigned char)*b);
        if (ca != cb || ca == '\0') {
            return ca - cb;
        }
    }
}

int main(void) {
    char buf[] = "  hello, world  ";
    size_t n;
    char **parts = str_split(str_trim(buf), ',', &n);
    char *r = str_replace("a-b-c", "-", "::");
    printf("%zu [%s] [%s] %s %d\n", n, parts[0], parts[1], r, str_casecmp("ABC", "abc"));
    free(r);
    free_split(parts);
    return 0;
}
