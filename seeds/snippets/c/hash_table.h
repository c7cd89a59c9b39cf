/* A string-keyed hash table with open addressing and linear probing. */
#ifndef HASH_TABLE_H
#define HASH_TABLE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct ht_entry {
    char *key;
    int value;
};

struct hash_table {
    struct ht_entry *entries;
    size_t capacity;
    size_t length;
};

static uint64_t ht_hash(const char *key) {
    uint64_t hash = 14695981039346656037ULL; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        hash ^= *p;
        hash *= 1099511628211ULL;
    }
    return hash;
}

static int ht_init(struct hash_table *t, size_t capacity) {
    t->entries = calloc(capacity, sizeof *t->entries);
    t->capacity = capacity;
    t->length = 0;
    return t->entries == NULL ? -1 : 0;
}

static struct ht_entry *ht_slot(struct ht_entry *entries, size_t capacity, const char *key) {
    size_t i = (size_t)(ht_hash(key) & (uint64_t)(capacity - 1));
    while (entries[i].key != NULL && strcmp(entries[i].key, key) != 0) {
        i = (i + 1) & (capacity - 1);
    }
    return &entries[i];
}

static int ht_grow(struct hash_table *t) {
    size_t capacity = t->capacity * 2;
    struct ht_entry *entries = calloc(capacity, sizeof *entries);
    if (entries == NULL) {
        return -1;
    }
    for (size_t i = 0; i < t->capacity; i++) {
        if (t->entries[i].key != NULL) {
            *ht_slot(entries, capacity, t->entries[i].key) = t->entries[i];
        }
    }
    free(t->entries);
    t->entries = entries;
    t->capacity = capacity;
    return 0;
}

/* Sets key to value, copying the key; capacity must be a power of two. */
static int ht_set(struct hash_table *t, const char *key, int value) {
    if (2 * (t->length + 1) > t->capacity && ht_grow(t) != 0) {
        return -1;
    }
    struct ht_entry *slot = ht_slot(t->entries, t->capacity, key);
    if (slot->key == NULL) {
        slot->key = strdup(key);
        if (slot->key == NULL) {
            return -1;
        }
        t->length++;
    }
    slot->value = value;
    return 0;
}

static int *ht_get(struct hash_table *t, const char *key) {
    struct ht_entry *slot = ht_slot(t->entries, t->capacity, key);
    return slot->key == NULL ? NULL : &slot->value;
}

static void ht_free(struct hash_table *t) {
    for (size_t i = 0; i < t->capacity; i++) {
        free(t->entries[i].key);
    }
    free(t->entries);
    t->entries = NULL;
    t->capacity = t->length = 0;
}

#endif
