/*
 * _otlpscan: OTLP/JSON traces (Jaeger api_v3 answers) scanned straight into span columns.
 *
 * One pass over the bytes, no Python object per span: the fields sloctl's span statistics need
 * (service, span name, kind, times, error flag, parent link) land in flat C arrays, returned as
 * bytes buffers that numpy views without copying. Unknown fields (events, links, scope, ...) are
 * skipped syntactically. The error rules are those of sloctl.core.spans.is_error_span and
 * sloctl.sources.jaeger_parse (the msgspec reference parser); tests compare the two on generated
 * documents.
 *
 * scan(body: bytes, wrapped: bool) -> (services, operations, service, operation, kind, error,
 *                                      has_parent, start_ns, duration_ns, parent_index, traces)
 * raises ValueError with the byte offset and what was expected.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 256
#define KIND_SERVER 2
#define KIND_CLIENT 3
#define STATUS_CODE_ERROR 2

/* ---------------------------------------------------------------- growable buffers */

typedef struct {
    char *data;
    size_t len, cap;
} Buf;

static int buf_reserve(Buf *b, size_t extra) {
    if (b->len + extra <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra) cap *= 2;
    char *data = realloc(b->data, cap);
    if (!data) return -1;
    b->data = data;
    b->cap = cap;
    return 0;
}

static int buf_push(Buf *b, const void *item, size_t size) {
    if (size == 0) return 0;
    if (buf_reserve(b, size) < 0) return -1;
    memcpy(b->data + b->len, item, size);
    b->len += size;
    return 0;
}

/* ---------------------------------------------------------------- string interning */

typedef struct {
    Buf bytes;        /* concatenated names */
    Buf offsets;      /* size_t start, size_t len per name */
    uint32_t *slots;  /* open addressing: name index + 1, 0 = empty */
    size_t nslots, count;
} Interner;

static uint64_t hash_bytes(const char *p, size_t n) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return h;
}

static const char *interned(const Interner *t, size_t i, size_t *len) {
    const size_t *o = (const size_t *)t->offsets.data + 2 * i;
    *len = o[1];
    return t->bytes.data ? t->bytes.data + o[0] : ""; /* only empty names so far: no buffer */
}

static int interner_grow(Interner *t) {
    size_t n = t->nslots ? t->nslots * 2 : 64;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots) return -1;
    for (size_t i = 0; i < t->count; i++) {
        size_t len;
        const char *p = interned(t, i, &len);
        size_t s = hash_bytes(p, len) & (n - 1);
        while (slots[s]) s = (s + 1) & (n - 1);
        slots[s] = (uint32_t)(i + 1);
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = n;
    return 0;
}

/* Index of the name p[0..n), added if new; -1 on out of memory. */
static int64_t intern(Interner *t, const char *p, size_t n) {
    if ((t->count + 1) * 2 > t->nslots && interner_grow(t) < 0) return -1;
    size_t s = hash_bytes(p, n) & (t->nslots - 1);
    while (t->slots[s]) {
        size_t len;
        const char *q = interned(t, t->slots[s] - 1, &len);
        if (len == n && memcmp(p, q, n) == 0) return t->slots[s] - 1;
        s = (s + 1) & (t->nslots - 1);
    }
    size_t o[2] = {t->bytes.len, n};
    if (buf_push(&t->bytes, p, n) < 0 || buf_push(&t->offsets, o, sizeof o) < 0) return -1;
    t->slots[s] = (uint32_t)(t->count + 1);
    return (int64_t)t->count++;
}

static void interner_free(Interner *t) {
    free(t->bytes.data);
    free(t->offsets.data);
    free(t->slots);
}

/* ---------------------------------------------------------------- scanner state */

typedef struct {
    const char *start, *p, *end;
    int depth;
    char error[300];
    Interner services, operations;
    /* per-span columns */
    Buf service, operation, kind, error_flag, has_parent, start_ns, duration_ns;
    Buf ids; /* per span: trace id (16 bytes), span id (8), parent span id (8) */
    Buf key_scratch, value_scratch, name_scratch, int_scratch;
    size_t spans;
} Scan;

static int fail(Scan *s, const char *what) {
    if (!s->error[0]) {
        snprintf(s->error, sizeof s->error, "%s at byte %zd", what, (Py_ssize_t)(s->p - s->start));
    }
    return -1;
}

static int oom(Scan *s) { return fail(s, "out of memory"); }

static inline void ws(Scan *s) {
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

static inline int peek(Scan *s) {
    ws(s);
    return s->p < s->end ? (unsigned char)*s->p : -1;
}

static int expect(Scan *s, char c, const char *what) {
    if (peek(s) != (unsigned char)c) return fail(s, what);
    s->p++;
    return 0;
}

/* ---------------------------------------------------------------- strings */

typedef struct {
    const char *p;
    size_t n;
} Str;

static int hex_digit(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int put_utf8(Buf *b, uint32_t cp) {
    char out[4];
    size_t n;
    if (cp < 0x80) {
        out[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        out[0] = (char)(0xF0 | (cp >> 18));
        out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return buf_push(b, out, n);
}

/* The first byte of [p, q) that needs care in a JSON string: a backslash or a control
 * character; q when there is none. */
static inline const char *special_byte(const char *p, const char *q) {
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    while (q - p >= 8) { /* 8 bytes at a time: "some byte < 0x20" or "some byte is '\\'" */
        uint64_t x, b;
        memcpy(&x, p, 8);
        b = x ^ (ones * '\\');
        if (((x - ones * 0x20) & ~x & highs) | ((b - ones) & ~b & highs)) break;
        p += 8;
    }
    while (p < q && (unsigned char)*p >= 0x20 && *p != '\\') p++;
    return p;
}

static int read_u16_escape(const Scan *s, const char *p, uint32_t *out) {
    if (s->end - p < 4) return -1;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit((unsigned char)p[i]);
        if (d < 0) return -1;
        v = v * 16 + (uint32_t)d;
    }
    *out = v;
    return 0;
}

/* Unescape the string body starting at s->p (after the opening quote) into scratch. */
static int unescape(Scan *s, Buf *scratch, Str *out) {
    scratch->len = 0;
    const char *p = s->p;
    while (p < s->end && *p != '"') {
        if ((unsigned char)*p < 0x20) {
            s->p = p;
            return fail(s, "control character in a JSON string");
        }
        if (*p != '\\') {
            const char *run = p;
            while (p < s->end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20) p++;
            if (buf_push(scratch, run, (size_t)(p - run)) < 0) return oom(s);
            continue;
        }
        if (s->end - p < 2) break;
        char c = p[1];
        char simple = 0;
        switch (c) {
            case '"': simple = '"'; break;
            case '\\': simple = '\\'; break;
            case '/': simple = '/'; break;
            case 'b': simple = '\b'; break;
            case 'f': simple = '\f'; break;
            case 'n': simple = '\n'; break;
            case 'r': simple = '\r'; break;
            case 't': simple = '\t'; break;
            case 'u': break;
            default: s->p = p; return fail(s, "invalid escape in a JSON string");
        }
        if (simple) {
            if (buf_push(scratch, &simple, 1) < 0) return oom(s);
            p += 2;
            continue;
        }
        uint32_t cp;
        if (read_u16_escape(s, p + 2, &cp) < 0) {
            s->p = p;
            return fail(s, "invalid \\u escape in a JSON string");
        }
        p += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t low;
            if (s->end - p >= 6 && p[0] == '\\' && p[1] == 'u' && read_u16_escape(s, p + 2, &low) == 0 &&
                low >= 0xDC00 && low <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                p += 6;
            } else {
                s->p = p;
                return fail(s, "unpaired surrogate in a JSON string");
            }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            s->p = p;
            return fail(s, "unpaired surrogate in a JSON string");
        }
        if (put_utf8(scratch, cp) < 0) return oom(s);
    }
    if (p >= s->end) return fail(s, "unterminated string");
    s->p = p + 1;
    out->p = scratch->data ? scratch->data : "";
    out->n = scratch->len;
    return 0;
}

/* A string value: a slice of the input when it has no escapes, else unescaped into scratch. */
static int read_string(Scan *s, Buf *scratch, Str *out) {
    if (peek(s) != '"') return fail(s, "expected a string");
    s->p++;
    const char *q = memchr(s->p, '"', (size_t)(s->end - s->p));
    if (!q) return fail(s, "unterminated string");
    if (special_byte(s->p, q) == q) {
        out->p = s->p;
        out->n = (size_t)(q - s->p);
        s->p = q + 1;
        return 0;
    }
    return unescape(s, scratch, out);
}

/* Length of a valid escape sequence at p (a backslash), 0 if invalid. */
static int escape_length(const Scan *s, const char *p) {
    if (s->end - p < 2) return 0;
    switch (p[1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
            return 2;
        case 'u': {
            uint32_t cp, low;
            if (read_u16_escape(s, p + 2, &cp) < 0 || (cp >= 0xDC00 && cp <= 0xDFFF)) return 0;
            if (cp < 0xD800 || cp > 0xDBFF) return 6;
            /* a high surrogate must be followed by a low one */
            if (s->end - p >= 12 && p[6] == '\\' && p[7] == 'u' &&
                read_u16_escape(s, p + 8, &low) == 0 && low >= 0xDC00 && low <= 0xDFFF)
                return 12;
            return 0;
        }
        default:
            return 0;
    }
}

static int skip_string(Scan *s) {
    const char *p = s->p + 1; /* after the opening quote */
    for (;;) {
        const char *q = memchr(p, '"', (size_t)(s->end - p));
        if (!q) return fail(s, "unterminated string");
        while ((p = special_byte(p, q)) < q) {
            if (*p != '\\') {
                s->p = p;
                return fail(s, "control character in a JSON string");
            }
            int n = escape_length(s, p);
            if (!n) {
                s->p = p;
                return fail(s, "invalid escape in a JSON string");
            }
            p += n;
        }
        if (p == q) {
            s->p = q + 1;
            return 0;
        }
        /* An escape ended past q: that quote was escaped; look for the next one. */
    }
}

static inline int str_is(Str k, const char *lit, size_t n) {
    return k.n == n && memcmp(k.p, lit, n) == 0;
}
#define IS(k, lit) str_is((k), (lit), sizeof(lit) - 1)

/* ---------------------------------------------------------------- generic values */

static int skip_value(Scan *s);

static int skip_literal(Scan *s, const char *lit, size_t n) {
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0) return fail(s, "invalid literal");
    s->p += n;
    return 0;
}

static int number_char(int c) {
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

static int is_digit(const Scan *s, const char *p) { return p < s->end && *p >= '0' && *p <= '9'; }

/* A JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int skip_number(Scan *s) {
    const char *p = s->p;
    if (p < s->end && *p == '-') p++;
    if (!is_digit(s, p)) return fail(s, "expected a JSON value");
    if (*p == '0') {
        p++;
        if (is_digit(s, p)) return fail(s, "invalid number (leading zero)");
    } else {
        while (is_digit(s, p)) p++;
    }
    if (p < s->end && *p == '.') {
        p++;
        if (!is_digit(s, p)) return fail(s, "invalid number (no digit after '.')");
        while (is_digit(s, p)) p++;
    }
    if (p < s->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < s->end && (*p == '+' || *p == '-')) p++;
        if (!is_digit(s, p)) return fail(s, "invalid number (no digit in the exponent)");
        while (is_digit(s, p)) p++;
    }
    s->p = p;
    return 0;
}

static int skip_container(Scan *s, char close) {
    if (++s->depth > MAX_DEPTH) return fail(s, "JSON nested too deeply");
    s->p++;
    if (peek(s) == (unsigned char)close) {
        s->p++;
        s->depth--;
        return 0;
    }
    for (;;) {
        if (close == '}') {
            if (peek(s) != '"') return fail(s, "expected a member name");
            if (skip_string(s) < 0 || expect(s, ':', "expected ':'") < 0) return -1;
        }
        if (skip_value(s) < 0) return -1;
        int c = peek(s);
        if (c == ',') {
            s->p++;
            continue;
        }
        if (c == (unsigned char)close) {
            s->p++;
            s->depth--;
            return 0;
        }
        return fail(s, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int skip_value(Scan *s) {
    switch (peek(s)) {
        case '"': return skip_string(s);
        case '{': return skip_container(s, '}');
        case '[': return skip_container(s, ']');
        case 't': return skip_literal(s, "true", 4);
        case 'f': return skip_literal(s, "false", 5);
        case 'n': return skip_literal(s, "null", 4);
        case -1: return fail(s, "unexpected end of input");
        default: return skip_number(s);
    }
}

static int is_null(Scan *s) {
    if (peek(s) == 'n') {
        if (skip_literal(s, "null", 4) < 0) return -1;
        return 1;
    }
    return 0;
}

/* An integer as a JSON number or a decimal string (OTLP/JSON writes 64-bit integers as strings).
 * Returns 1 when read, 0 for null, -1 on error. */
static int read_int(Scan *s, int64_t *out, const char *field) {
    int null = is_null(s);
    if (null) return null < 0 ? -1 : 0;
    const char *p;
    const char *end;
    int quoted = peek(s) == '"';
    Str str;
    if (quoted) {
        if (read_string(s, &s->int_scratch, &str) < 0) return -1;
        p = str.p;
        end = str.p + str.n;
    } else {
        p = s->p;
        while (s->p < s->end && number_char((unsigned char)*s->p)) s->p++;
        end = s->p;
    }
    int negative = p < end && *p == '-';
    if (negative) p++;
    if (p == end || (*p == '0' && end - p > 1)) goto bad; /* no leading zeros, as in JSON */
    uint64_t v = 0, limit = UINT64_C(9223372036854775807) + (uint64_t)negative; /* int64 range */
    for (; p < end; p++) {
        if (*p < '0' || *p > '9') goto bad;
        if (v > (limit - (uint64_t)(*p - '0')) / 10) goto bad;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = negative ? (int64_t)(0 - v) : (int64_t)v;
    return 1;
bad:;
    char msg[120];
    snprintf(msg, sizeof msg, "%s is not an integer (a number or a decimal string)", field);
    return fail(s, msg);
}

/* Object iteration: object_begin gives 1 when a member follows, 0 for {} (consumed);
 * member_key reads a member name and its ':'; next_member gives 1, 0 at '}' (consumed) or -1. */
static int object_begin(Scan *s, const char *what) {
    if (peek(s) != '{') return fail(s, what);
    s->p++;
    if (++s->depth > MAX_DEPTH) return fail(s, "JSON nested too deeply");
    if (peek(s) == '}') {
        s->p++;
        s->depth--;
        return 0;
    }
    return 1;
}

static int member_key(Scan *s, Str *key) {
    if (peek(s) != '"') return fail(s, "expected a member name");
    if (read_string(s, &s->key_scratch, key) < 0) return -1;
    return expect(s, ':', "expected ':'");
}

/* Duplicate member names are undefined in JSON (parsers keep the first, the last or all):
 * a member sloctl reads may appear once per object. */
static int first_time(Scan *s, unsigned *seen, unsigned bit, Str key) {
    if (*seen & bit) {
        char msg[100];
        snprintf(msg, sizeof msg, "duplicate member \"%.*s\"", (int)(key.n > 40 ? 40 : key.n), key.p);
        return fail(s, msg);
    }
    *seen |= bit;
    return 0;
}

static int next_member(Scan *s) {
    int c = peek(s);
    if (c == ',') {
        s->p++;
        return 1;
    }
    if (c == '}') {
        s->p++;
        s->depth--;
        return 0;
    }
    return fail(s, "expected ',' or '}'");
}

/* Iterate the items of an array (null counts as empty). */
static int array_begin(Scan *s, const char *what) {
    int null = is_null(s);
    if (null) return null < 0 ? -1 : 0;
    if (peek(s) != '[') return fail(s, what);
    s->p++;
    if (++s->depth > MAX_DEPTH) return fail(s, "JSON nested too deeply");
    if (peek(s) == ']') {
        s->p++;
        s->depth--;
        return 0;
    }
    return 1;
}

static int array_next(Scan *s) {
    int c = peek(s);
    if (c == ',') {
        s->p++;
        return 1;
    }
    if (c == ']') {
        s->p++;
        s->depth--;
        return 0;
    }
    return fail(s, "expected ',' or ']'");
}

/* Each item of an array (null counts as empty) read by `item`. */
static int read_array(Scan *s, const char *what, int (*item)(Scan *, void *), void *ctx) {
    int more = array_begin(s, what);
    while (more > 0) {
        if (item(s, ctx) < 0) return -1;
        more = array_next(s);
    }
    return more < 0 ? -1 : 0;
}

/* An object of which sloctl reads one member, `name`, with `member`; others are skipped.
 * Sets *found when the member was there. */
static int read_one_member(Scan *s, const char *what, const char *name,
                           int (*member)(Scan *, void *), void *ctx, int *found) {
    Str key;
    unsigned seen = 0;
    int more = object_begin(s, what);
    while (more > 0) {
        if (member_key(s, &key) < 0) return -1;
        if (str_is(key, name, strlen(name))) {
            if (first_time(s, &seen, 1u, key) < 0 || member(s, ctx) < 0) return -1;
        } else if (skip_value(s) < 0) {
            return -1;
        }
        more = next_member(s);
    }
    if (found) *found = seen != 0;
    return more < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------- OTLP pieces */

/* An AnyValue reduced to what sloctl reads: the scalar that Python's _AnyValue.scalar() picks. */
enum { V_NONE, V_STRING, V_INT, V_BOOL, V_DOUBLE };
typedef struct {
    int type;
    Str str;
    int64_t i;
    int b;
} Scalar;

static int read_any_value(Scan *s, Scalar *v) {
    int has_string = 0, has_int = 0, has_bool = 0, has_double = 0;
    Str str = {"", 0};
    int64_t i = 0;
    int b = 0;
    v->type = V_NONE;
    int null = is_null(s);
    if (null) return null < 0 ? -1 : 0;
    Str key;
    int rc;
    unsigned seen = 0;
    int more = object_begin(s, "expected an AnyValue object");
    while (more > 0) {
        if (member_key(s, &key) < 0) return -1;
        if (IS(key, "stringValue")) {
            if (first_time(s, &seen, 1u, key) < 0) return -1;
            if ((rc = is_null(s)) < 0) return -1;
            if (!rc) {
                if (read_string(s, &s->value_scratch, &str) < 0) return -1;
                has_string = 1;
            }
        } else if (IS(key, "intValue")) {
            if (first_time(s, &seen, 2u, key) < 0) return -1;
            if ((rc = read_int(s, &i, "intValue")) < 0) return -1;
            has_int = rc;
        } else if (IS(key, "boolValue")) {
            if (first_time(s, &seen, 4u, key) < 0) return -1;
            if ((rc = is_null(s)) < 0) return -1;
            if (!rc) {
                int c = peek(s);
                if (c == 't') {
                    if (skip_literal(s, "true", 4) < 0) return -1;
                    b = 1;
                } else if (c == 'f') {
                    if (skip_literal(s, "false", 5) < 0) return -1;
                    b = 0;
                } else {
                    return fail(s, "boolValue is not true or false");
                }
                has_bool = 1;
            }
        } else if (IS(key, "doubleValue")) {
            if (first_time(s, &seen, 8u, key) < 0) return -1;
            if ((rc = is_null(s)) < 0) return -1;
            if (!rc) {
                if (skip_value(s) < 0) return -1;
                has_double = 1;
            }
        } else if (skip_value(s) < 0) {
            return -1;
        }
        more = next_member(s);
    }
    if (more < 0) return -1;
    if (has_string) {
        v->type = V_STRING;
        v->str = str;
    } else if (has_int) {
        v->type = V_INT;
        v->i = i;
    } else if (has_bool) {
        v->type = V_BOOL;
        v->b = b;
    } else if (has_double) {
        v->type = V_DOUBLE;
    }
    return 0;
}

/* A KeyValue: key and scalar value, in either member order. When the key comes first and
 * `wanted` rejects it, the value is only skipped (has_value stays 0). */
static int read_key_value(Scan *s, int (*wanted)(Str), Str *key_out, Scalar *value,
                          int *has_value) {
    Str key;
    Str found = {"", 0};
    int has_key = 0, skip = 0;
    *has_value = 0;
    value->type = V_NONE;
    unsigned seen = 0;
    int more = object_begin(s, "expected a KeyValue object");
    while (more > 0) {
        if (member_key(s, &key) < 0) return -1;
        if (IS(key, "key")) {
            if (first_time(s, &seen, 1u, key) < 0) return -1;
            /* The member name was read into key_scratch; the key itself goes to name_scratch. */
            if (read_string(s, &s->name_scratch, &found) < 0) return -1;
            has_key = 1;
            skip = !wanted(found);
        } else if (IS(key, "value") && skip) {
            if (first_time(s, &seen, 2u, key) < 0) return -1;
            if (skip_value(s) < 0) return -1;
        } else if (IS(key, "value")) {
            if (first_time(s, &seen, 2u, key) < 0) return -1;
            int null = is_null(s);
            if (null < 0) return -1;
            if (!null) {
                if (read_any_value(s, value) < 0) return -1;
                *has_value = 1;
            }
        } else if (skip_value(s) < 0) {
            return -1;
        }
        more = next_member(s);
    }
    if (more < 0) return -1;
    if (!has_key) return fail(s, "a KeyValue has no \"key\"");
    *key_out = found;
    return 0;
}

static int resource_key_wanted(Str key) { return IS(key, "service.name"); }

static int span_key_wanted(Str key) {
    return IS(key, "error") || IS(key, "otel.status_code") || IS(key, "http.response.status_code") ||
           IS(key, "http.status_code");
}

/* A resource attribute: the first non-empty service.name names the resource's service. */
static int read_resource_attribute(Scan *s, void *ctx) {
    int64_t *service = ctx;
    Str k;
    Scalar v;
    int has_value;
    if (read_key_value(s, resource_key_wanted, &k, &v, &has_value) < 0) return -1;
    if (*service < 0 && IS(k, "service.name") && v.type == V_STRING && v.str.n > 0) {
        if ((*service = intern(&s->services, v.str.p, v.str.n)) < 0) return oom(s);
    }
    return 0;
}

static int read_resource_attributes(Scan *s, void *service) {
    return read_array(s, "resource attributes are not an array", read_resource_attribute, service);
}

static int read_resource(Scan *s, int64_t *service) {
    int null = is_null(s);
    if (null) return null < 0 ? -1 : 0;
    return read_one_member(s, "expected a resource object", "attributes", read_resource_attributes,
                           service, NULL);
}

static int read_hex_id(Scan *s, unsigned char *out, size_t bytes, const char *field, int *empty) {
    Str str;
    memset(out, 0, bytes);
    int null = is_null(s);
    if (null) {
        if (null < 0) return -1;
        *empty = 1;
        return 0;
    }
    if (read_string(s, &s->value_scratch, &str) < 0) return -1;
    *empty = str.n == 0;
    if (str.n == 0) return 0;
    if (str.n != bytes * 2) goto bad;
    for (size_t i = 0; i < bytes; i++) {
        int hi = hex_digit((unsigned char)str.p[2 * i]);
        int lo = hex_digit((unsigned char)str.p[2 * i + 1]);
        if (hi < 0 || lo < 0) goto bad;
        out[i] = (unsigned char)(hi * 16 + lo);
    }
    return 0;
bad:;
    char msg[120];
    snprintf(msg, sizeof msg, "%s is not %zu hexadecimal characters", field, bytes * 2);
    return fail(s, msg);
}

/* The error rules of sloctl.core.spans.is_error_span over a span's attributes (last one wins). */
typedef struct {
    int error_tag_true;
    int otel_error;
    int http_state; /* 0 none, 1 code, 2 present but not a status code */
    int64_t http_code;
} ErrorAttrs;

static int ascii_iequal(Str v, const char *lit) {
    size_t n = strlen(lit);
    if (v.n != n) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = v.p[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != lit[i]) return 0;
    }
    return 1;
}

static int ascii_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void http_status_of(const Scalar *v, ErrorAttrs *e) {
    e->http_state = 0;
    if (v->type == V_INT) {
        e->http_state = 1;
        e->http_code = v->i;
    } else if (v->type == V_BOOL) {
        e->http_state = 1; /* Python: isinstance(True, int); True == 1 */
        e->http_code = v->b;
    } else if (v->type == V_STRING) {
        /* ASCII digits with surrounding ASCII whitespace (sloctl.core.spans.is_error_span) */
        const char *p = v->str.p, *end = v->str.p + v->str.n;
        while (p < end && ascii_space(*p)) p++;
        while (end > p && ascii_space(end[-1])) end--;
        int64_t code = 0;
        if (p == end) {
            e->http_state = 2;
            return;
        }
        for (; p < end; p++) {
            if (*p < '0' || *p > '9') {
                e->http_state = 2;
                return;
            }
            if (code < 1000000000) code = code * 10 + (*p - '0');
        }
        e->http_state = 1;
        e->http_code = code;
    } else if (v->type == V_DOUBLE) {
        e->http_state = 2;
    }
}

/* A span attribute: records what the error rules read (the last of each key wins). */
static int read_span_attribute(Scan *s, void *ctx) {
    ErrorAttrs *e = ctx;
    Str k;
    Scalar v;
    int has_value;
    if (read_key_value(s, span_key_wanted, &k, &v, &has_value) < 0) return -1;
    if (IS(k, "error")) {
        e->error_tag_true =
            (v.type == V_BOOL && v.b) || (v.type == V_STRING && ascii_iequal(v.str, "true"));
    } else if (IS(k, "otel.status_code")) {
        e->otel_error = v.type == V_STRING && IS(v.str, "ERROR");
    } else if ((IS(k, "http.response.status_code") || IS(k, "http.status_code")) && has_value) {
        http_status_of(&v, e);
    }
    return 0;
}

static int read_status_code(Scan *s, void *code) {
    return read_int(s, code, "status.code") < 0 ? -1 : 0;
}

static int read_status(Scan *s, int64_t *code) {
    int null = is_null(s);
    if (null) return null < 0 ? -1 : 0;
    return read_one_member(s, "expected a status object", "code", read_status_code, code, NULL);
}

static int read_span(Scan *s, void *unused) {
    (void)unused;
    Str key;
    unsigned char ids[32];
    int64_t kind = 0, start = 0, end = 0, status = 0, operation = -1;
    int has_trace = 0, has_span = 0, parent_empty = 1, empty;
    ErrorAttrs e = {0, 0, 0, 0};
    memset(ids, 0, sizeof ids);
    unsigned seen = 0;
    int more = object_begin(s, "expected a span object");
    while (more > 0) {
        if (member_key(s, &key) < 0) return -1;
        if (IS(key, "traceId")) {
            if (first_time(s, &seen, 1u, key) < 0) return -1;
            if (read_hex_id(s, ids, 16, "traceId", &empty) < 0) return -1;
            has_trace = !empty;
        } else if (IS(key, "spanId")) {
            if (first_time(s, &seen, 2u, key) < 0) return -1;
            if (read_hex_id(s, ids + 16, 8, "spanId", &empty) < 0) return -1;
            has_span = !empty;
        } else if (IS(key, "parentSpanId")) {
            if (first_time(s, &seen, 4u, key) < 0) return -1;
            if (read_hex_id(s, ids + 24, 8, "parentSpanId", &parent_empty) < 0) return -1;
        } else if (IS(key, "name")) {
            if (first_time(s, &seen, 8u, key) < 0) return -1;
            Str name;
            if (read_string(s, &s->name_scratch, &name) < 0) return -1;
            if ((operation = intern(&s->operations, name.p, name.n)) < 0) return oom(s);
        } else if (IS(key, "kind")) {
            if (first_time(s, &seen, 16u, key) < 0) return -1;
            if (read_int(s, &kind, "kind") < 0) return -1;
        } else if (IS(key, "startTimeUnixNano")) {
            if (first_time(s, &seen, 32u, key) < 0) return -1;
            if (read_int(s, &start, "startTimeUnixNano") < 0) return -1;
        } else if (IS(key, "endTimeUnixNano")) {
            if (first_time(s, &seen, 64u, key) < 0) return -1;
            if (read_int(s, &end, "endTimeUnixNano") < 0) return -1;
        } else if (IS(key, "attributes")) {
            if (first_time(s, &seen, 128u, key) < 0) return -1;
            if (read_array(s, "span attributes are not an array", read_span_attribute, &e) < 0)
                return -1;
        } else if (IS(key, "status")) {
            if (first_time(s, &seen, 256u, key) < 0) return -1;
            if (read_status(s, &status) < 0) return -1;
        } else if (skip_value(s) < 0) {
            return -1;
        }
        more = next_member(s);
    }
    if (more < 0) return -1;
    if (!has_trace) return fail(s, "a span has no traceId");
    if (!has_span) return fail(s, "a span has no spanId");
    if (kind < 0 || kind > 255) return fail(s, "a span kind is outside 0..255");
    if (start < 0 || end < 0) return fail(s, "a span time is negative (OTLP times are unsigned)");
    if (operation < 0 && (operation = intern(&s->operations, "", 0)) < 0) return oom(s);
    int error = status == STATUS_CODE_ERROR || e.otel_error || e.error_tag_true;
    if (!error && e.http_state == 1) {
        if (kind == KIND_SERVER) error = e.http_code >= 500;
        else if (kind == KIND_CLIENT) error = e.http_code >= 400;
    }
    uint32_t op32 = (uint32_t)operation;
    uint8_t kind8 = (uint8_t)kind, error8 = (uint8_t)error, parent8 = (uint8_t)!parent_empty;
    int64_t duration;
    if (__builtin_sub_overflow(end, start, &duration) || duration < 0) duration = 0;
    if (buf_push(&s->operation, &op32, 4) < 0 || buf_push(&s->kind, &kind8, 1) < 0 ||
        buf_push(&s->error_flag, &error8, 1) < 0 || buf_push(&s->has_parent, &parent8, 1) < 0 ||
        buf_push(&s->start_ns, &start, 8) < 0 || buf_push(&s->duration_ns, &duration, 8) < 0 ||
        buf_push(&s->ids, ids, 32) < 0)
        return oom(s);
    s->spans++;
    return 0;
}

static int read_spans(Scan *s, void *ctx) {
    return read_array(s, "spans is not an array", read_span, ctx);
}

static int read_scope_spans(Scan *s, void *ctx) {
    return read_one_member(s, "expected a scopeSpans item object", "spans", read_spans, ctx, NULL);
}

static int read_resource_spans(Scan *s, void *unused) {
    (void)unused;
    Str key;
    size_t first = s->spans;
    int64_t service = -1;
    unsigned seen = 0;
    int more = object_begin(s, "expected a resourceSpans item object");
    while (more > 0) {
        if (member_key(s, &key) < 0) return -1;
        if (IS(key, "resource")) {
            if (first_time(s, &seen, 1u, key) < 0) return -1;
            if (read_resource(s, &service) < 0) return -1;
        } else if (IS(key, "scopeSpans")) {
            if (first_time(s, &seen, 2u, key) < 0) return -1;
            if (read_array(s, "scopeSpans is not an array", read_scope_spans, NULL) < 0) return -1;
        } else if (skip_value(s) < 0) {
            return -1;
        }
        more = next_member(s);
    }
    if (more < 0) return -1;
    if (service < 0 && (service = intern(&s->services, "unknown_service", 15)) < 0) return oom(s);
    uint32_t service32 = (uint32_t)service;
    for (size_t i = first; i < s->spans; i++) {
        if (buf_push(&s->service, &service32, 4) < 0) return oom(s);
    }
    return 0;
}

static int read_resource_spans_list(Scan *s, void *ctx) {
    return read_array(s, "resourceSpans is not an array", read_resource_spans, ctx);
}

static int read_traces_data(Scan *s, void *unused) {
    int null = is_null(s);
    if (null) return null < 0 ? -1 : fail(s, "TracesData is null, not an object");
    return read_one_member(s, "expected a TracesData object", "resourceSpans",
                           read_resource_spans_list, unused, NULL);
}

static int read_document(Scan *s, int wrapped) {
    if (!wrapped) {
        if (peek(s) != '{') return fail(s, "expected a TracesData object");
        if (read_traces_data(s, NULL) < 0) return -1;
    } else {
        int found;
        if (peek(s) != '{') return fail(s, "expected an api_v3 answer {\"result\": TracesData}");
        if (read_one_member(s, "expected an api_v3 answer object", "result", read_traces_data, NULL,
                            &found) < 0)
            return -1;
        if (!found) return fail(s, "not an api_v3 traces answer: no \"result\" object");
    }
    if (peek(s) != -1) return fail(s, "trailing characters after the JSON document");
    return 0;
}

/* ---------------------------------------------------------------- parent links */

static uint64_t load64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint64_t mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static uint64_t id_hash(const unsigned char *trace, const unsigned char *span) {
    return mix(load64(trace) ^ mix(load64(trace + 8) ^ mix(load64(span))));
}

/* parent_index[i]: the last span with (traceId, spanId) == (trace i, parentSpanId i), else -1. */
static int link_parents(Scan *s, int64_t *parent_index) {
    size_t n = s->spans, nslots = 16;
    while (nslots < 2 * n) nslots *= 2;
    int64_t *slots = malloc(nslots * sizeof *slots);
    if (!slots) return oom(s);
    memset(slots, 0xff, nslots * sizeof *slots); /* -1 */
    const unsigned char *ids = (const unsigned char *)s->ids.data;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *id = ids + 32 * i;
        size_t slot = id_hash(id, id + 16) & (nslots - 1);
        while (slots[slot] >= 0) {
            const unsigned char *other = ids + 32 * slots[slot];
            if (memcmp(other, id, 24) == 0) break; /* duplicate: the later span wins */
            slot = (slot + 1) & (nslots - 1);
        }
        slots[slot] = (int64_t)i;
    }
    for (size_t i = 0; i < n; i++) {
        const unsigned char *id = ids + 32 * i;
        parent_index[i] = -1;
        if (!((const unsigned char *)s->has_parent.data)[i]) continue;
        size_t slot = id_hash(id, id + 24) & (nslots - 1);
        while (slots[slot] >= 0) {
            const unsigned char *other = ids + 32 * slots[slot];
            if (memcmp(other, id, 16) == 0 && memcmp(other + 16, id + 24, 8) == 0) {
                parent_index[i] = slots[slot];
                break;
            }
            slot = (slot + 1) & (nslots - 1);
        }
    }
    free(slots);
    return 0;
}

/* Number of distinct trace ids; -1 when out of memory. */
static int64_t count_traces(const Scan *s) {
    size_t n = s->spans, nslots = 16, count = 0;
    while (nslots < 2 * n) nslots *= 2;
    int64_t *slots = malloc(nslots * sizeof *slots);
    if (!slots) return -1;
    memset(slots, 0xff, nslots * sizeof *slots);
    const unsigned char *ids = (const unsigned char *)s->ids.data;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *id = ids + 32 * i;
        size_t slot = mix(load64(id) ^ mix(load64(id + 8))) & (nslots - 1);
        while (slots[slot] >= 0 && memcmp(ids + 32 * slots[slot], id, 16) != 0)
            slot = (slot + 1) & (nslots - 1);
        if (slots[slot] < 0) {
            slots[slot] = (int64_t)i;
            count++;
        }
    }
    free(slots);
    return (int64_t)count;
}

/* ---------------------------------------------------------------- Python glue */

static void scan_free(Scan *s) {
    interner_free(&s->services);
    interner_free(&s->operations);
    Buf *bufs[] = {&s->service, &s->operation, &s->kind, &s->error_flag, &s->has_parent,
                   &s->start_ns, &s->duration_ns, &s->ids, &s->key_scratch,
                   &s->value_scratch, &s->name_scratch, &s->int_scratch};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) free(bufs[i]->data);
}

static PyObject *names_list(const Interner *t) {
    PyObject *list = PyList_New((Py_ssize_t)t->count);
    if (!list) return NULL;
    for (size_t i = 0; i < t->count; i++) {
        size_t len;
        const char *p = interned(t, i, &len);
        PyObject *name = PyUnicode_DecodeUTF8(p, (Py_ssize_t)len, "strict");
        if (!name) {
            Py_DECREF(list);
            if (PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
                PyErr_SetString(PyExc_ValueError, "a service or span name is not valid UTF-8");
            }
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, name);
    }
    return list;
}

static PyObject *as_bytes(const Buf *b) {
    return PyBytes_FromStringAndSize(b->data ? b->data : "", (Py_ssize_t)b->len);
}

static PyObject *scan(PyObject *self, PyObject *args) {
    Py_buffer body;
    int wrapped;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*p", &body, &wrapped)) return NULL;
    Scan s;
    memset(&s, 0, sizeof s);
    s.start = s.p = body.buf;
    s.end = s.start + body.len;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = read_document(&s, wrapped);
    Py_END_ALLOW_THREADS
    PyObject *result = NULL;
    Buf parents = {0};
    if (rc < 0) {
        PyErr_SetString(PyExc_ValueError, s.error[0] ? s.error : "malformed JSON");
        goto done;
    }
    if (buf_reserve(&parents, s.spans * 8 + 8) < 0 || link_parents(&s, (int64_t *)parents.data) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    parents.len = s.spans * 8;
    int64_t traces = count_traces(&s);
    if (traces < 0) {
        PyErr_NoMemory();
        goto done;
    }
    result = Py_BuildValue("(NNNNNNNNNNL)", names_list(&s.services), names_list(&s.operations),
                           as_bytes(&s.service), as_bytes(&s.operation), as_bytes(&s.kind),
                           as_bytes(&s.error_flag), as_bytes(&s.has_parent), as_bytes(&s.start_ns),
                           as_bytes(&s.duration_ns), as_bytes(&parents), (long long)traces);
done:
    free(parents.data);
    scan_free(&s);
    PyBuffer_Release(&body);
    return result;
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS,
     "scan(body, wrapped) -> (services, operations, service, operation, kind, error, has_parent, "
     "start_ns, duration_ns, parent_index, traces)\n\nColumns of the spans of an OTLP/JSON TracesData "
     "(wrapped: an api_v3 {\"result\": ...} answer). Raises ValueError on malformed input."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    .m_base = PyModuleDef_HEAD_INIT,
    .m_name = "_otlpscan",
    .m_doc = "Native OTLP/JSON span scanner (see sloctl.sources.jaeger_parse).",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__otlpscan(void) { return PyModule_Create(&module); }
