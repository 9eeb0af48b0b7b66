/*
 * destructive-changes-c: the C twin of the Rust `destructive-changes` policy.
 *
 * Deleting, replacing or recreating a protected resource needs approval from
 * the configured groups, and fails outright in protected environments. Every
 * reason names the resource. Settings, defaults, reasons, verdicts and error
 * messages are those of `example-policies/destructive-changes` (the tests
 * compare the two, and both pass the same `gatehouse test` suite).
 *
 * It targets `gatehouse:policy@0.2.0`: the release stays in the host and is
 * read through the borrowed handle `evaluate` receives (the summary, and only
 * the resources changed in a configured way, filtered by the host).
 *
 * Build (from the repository root): `bash scripts/build-policies.sh`; the
 * bindings `policy.h` / `policy.c` / `policy_component_type.o` are generated
 * from `wit/0.2.0/policy.wit` at build time by `tools/wasm-c-build`, never
 * committed.
 * See README.md for the commands by hand.
 *
 * Memory rules (wit-bindgen's C bindings, the canonical ABI):
 *   - every argument an export receives (settings) is owned by this code and
 *     freed before returning (`policy_settings_free`); the release handle is
 *     borrowed for the call, and the borrow is ended before returning
 *     (`gatehouse_policy_input_release_drop_borrow`);
 *   - every result an import returns (summary, pages) is owned by this code
 *     and freed after use (`gatehouse_policy_types_resource_page_free`, ...);
 *   - every string and list an export returns is allocated with malloc; the
 *     generated post-return function frees it after the host has copied it.
 *     An empty string or list is returned as (NULL, 0), which is never freed.
 *   - strings are (pointer, length) pairs, UTF-8, NOT nul-terminated: all text
 *     handling below works on lengths, never on strlen of input.
 * Allocation failure aborts (a trap), which the host reports as an error.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

#define NAME "destructive-changes-c"
#define VERSION "0.1.0"
#define DESCRIPTION                                                              \
    "Deleting, replacing or recreating a protected resource needs approval; " \
    "in protected environments it fails the release."
#define INSTRUCTIONS                                                       \
    "Confirm a current backup or snapshot exists for every resource listed, " \
    "and that the data loss is intended."

/* --- memory ------------------------------------------------------------- */

static void *xrealloc(void *ptr, size_t count, size_t size) {
    if (size != 0 && count > SIZE_MAX / size) {
        abort();
    }
    size_t bytes = count * size;
    void *out = realloc(ptr, bytes == 0 ? 1 : bytes);
    if (out == NULL) {
        abort();
    }
    return out;
}

/* Doubles a capacity until it holds `need` items. */
static size_t grow(size_t cap, size_t need) {
    size_t next = cap == 0 ? 8 : cap;
    while (next < need) {
        if (next > SIZE_MAX / 2) {
            return need;
        }
        next *= 2;
    }
    return next;
}

/* --- text: borrowed views and owned builders ------------------------------ */

/* A borrowed UTF-8 string: a pointer and a length, not nul-terminated. */
typedef struct {
    const uint8_t *ptr;
    size_t len;
} str_t;

static str_t str_c(const char *text) {
    return (str_t){(const uint8_t *)text, strlen(text)};
}

static str_t str_of(const policy_string_t *s) {
    return (str_t){s->ptr, s->len};
}

static bool str_eq(str_t a, str_t b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* A growable byte buffer that becomes an owned `policy_string_t`. */
typedef struct {
    uint8_t *ptr;
    size_t len;
    size_t cap;
} buf_t;

static void buf_add(buf_t *b, str_t s) {
    if (s.len == 0) {
        return;
    }
    if (s.len > SIZE_MAX - b->len) {
        abort();
    }
    size_t need = b->len + s.len;
    if (need > b->cap) {
        b->cap = grow(b->cap, need);
        b->ptr = xrealloc(b->ptr, b->cap, 1);
    }
    memcpy(b->ptr + b->len, s.ptr, s.len);
    b->len = need;
}

static void buf_adds(buf_t *b, const char *text) {
    buf_add(b, str_c(text));
}

static void buf_addu(buf_t *b, uint64_t n) {
    char digits[20];
    size_t i = sizeof digits;
    do {
        digits[--i] = (char)('0' + n % 10);
        n /= 10;
    } while (n != 0 && i > 0);
    buf_add(b, (str_t){(const uint8_t *)digits + i, sizeof digits - i});
}

static void buf_free(buf_t *b) {
    free(b->ptr);
    *b = (buf_t){0};
}

/* Hands the bytes over as a string the caller (or post-return) frees. */
static policy_string_t buf_take(buf_t *b) {
    policy_string_t out = {NULL, 0};
    if (b->len > 0) {
        out.ptr = b->ptr;
        out.len = b->len;
    } else {
        free(b->ptr);
    }
    *b = (buf_t){0};
    return out;
}

static policy_string_t str_dup(str_t s) {
    buf_t b = {0};
    buf_add(&b, s);
    return buf_take(&b);
}

/* --- UTF-8 (valid by the canonical ABI; decoded defensively anyway) ------- */

/* Decodes the code point at `s.ptr[i]` (i < s.len) into `*cp`; returns its
 * length in bytes (1 for a malformed byte, decoded as U+FFFD). */
static size_t utf8_decode(str_t s, size_t i, uint32_t *cp) {
    uint8_t b0 = s.ptr[i];
    size_t n;
    uint32_t value;
    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    } else if ((b0 & 0xE0) == 0xC0) {
        n = 2;
        value = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
        n = 3;
        value = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
        n = 4;
        value = b0 & 0x07;
    } else {
        *cp = 0xFFFD;
        return 1;
    }
    if (n > s.len - i) {
        *cp = 0xFFFD;
        return 1;
    }
    for (size_t k = 1; k < n; k++) {
        uint8_t c = s.ptr[i + k];
        if ((c & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        value = (value << 6) | (c & 0x3F);
    }
    *cp = value;
    return n;
}

/* Unicode White_Space: what Rust's `str::trim` removes. */
static bool is_white_space(uint32_t cp) {
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 ||
           cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
           cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

static str_t trim(str_t s) {
    size_t start = 0, end = s.len;
    while (start < end) {
        uint32_t cp;
        size_t n = utf8_decode(s, start, &cp);
        if (!is_white_space(cp)) {
            break;
        }
        start += n;
    }
    while (end > start) {
        size_t last = end - 1;
        while (last > start && (s.ptr[last] & 0xC0) == 0x80) {
            last--;
        }
        uint32_t cp;
        utf8_decode((str_t){s.ptr, end}, last, &cp);
        if (!is_white_space(cp)) {
            break;
        }
        end = last;
    }
    return (str_t){s.ptr + start, end - start};
}

/* Assigned code points Rust's `{:?}` escapes as `\u{...}` (categories Cc, Cf,
 * Cs, Co, Zl, Zp and Zs but the space; Unicode 14). Rust also escapes
 * unassigned code points and a combining mark at the start of the string;
 * this policy prints those as they are (see README.md). */
static const uint32_t NON_PRINTABLE[][2] = {
    {0x0, 0x1F},         {0x7F, 0xA0},       {0xAD, 0xAD},       {0x600, 0x605},
    {0x61C, 0x61C},      {0x6DD, 0x6DD},     {0x70F, 0x70F},     {0x890, 0x891},
    {0x8E2, 0x8E2},      {0x1680, 0x1680},   {0x180E, 0x180E},   {0x2000, 0x200F},
    {0x2028, 0x202F},    {0x205F, 0x2064},   {0x2066, 0x206F},   {0x3000, 0x3000},
    {0xD800, 0xF8FF},    {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0x110BD, 0x110BD},
    {0x110CD, 0x110CD},  {0x13430, 0x13438}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A},
    {0xE0001, 0xE0001},  {0xE0020, 0xE007F}, {0xF0000, 0xFFFFD}, {0x100000, 0x10FFFD},
};

static bool is_printable(uint32_t cp) {
    for (size_t i = 0; i < sizeof NON_PRINTABLE / sizeof NON_PRINTABLE[0]; i++) {
        if (cp >= NON_PRINTABLE[i][0] && cp <= NON_PRINTABLE[i][1]) {
            return false;
        }
    }
    return true;
}

/* Appends `s` quoted the way Rust's `{:?}` quotes a string, so messages match
 * the Rust policy: `"prod*"`, `"a\"b"`, `"tab\there"`, `"\u{200b}"`. */
static void buf_add_debug(buf_t *b, str_t s) {
    static const char HEX[] = "0123456789abcdef";
    buf_adds(b, "\"");
    size_t i = 0;
    while (i < s.len) {
        uint32_t cp;
        size_t n = utf8_decode(s, i, &cp);
        if (cp == '"') {
            buf_adds(b, "\\\"");
        } else if (cp == '\\') {
            buf_adds(b, "\\\\");
        } else if (cp == '\n') {
            buf_adds(b, "\\n");
        } else if (cp == '\r') {
            buf_adds(b, "\\r");
        } else if (cp == '\t') {
            buf_adds(b, "\\t");
        } else if (cp == 0) {
            buf_adds(b, "\\0");
        } else if (!is_printable(cp)) {
            char escape[12];
            size_t k = sizeof escape;
            escape[--k] = '}';
            do {
                escape[--k] = HEX[cp & 0xF];
                cp >>= 4;
            } while (cp != 0);
            escape[--k] = '{';
            escape[--k] = 'u';
            escape[--k] = '\\';
            buf_add(b, (str_t){(const uint8_t *)escape + k, sizeof escape - k});
        } else {
            buf_add(b, (str_t){s.ptr + i, n});
        }
        i += n;
    }
    buf_adds(b, "\"");
}

static uint8_t ascii_lower(uint8_t c) {
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

static bool eq_ignore_ascii_case(str_t a, str_t b) {
    if (a.len != b.len) {
        return false;
    }
    for (size_t i = 0; i < a.len; i++) {
        if (ascii_lower(a.ptr[i]) != ascii_lower(b.ptr[i])) {
            return false;
        }
    }
    return true;
}

/* --- lists of borrowed strings -------------------------------------------- */

typedef struct {
    str_t *items;
    size_t len;
    size_t cap;
} strlist_t;

static void strlist_push(strlist_t *list, str_t s) {
    if (list->len == list->cap) {
        list->cap = grow(list->cap, list->len + 1);
        list->items = xrealloc(list->items, list->cap, sizeof(str_t));
    }
    list->items[list->len++] = s;
}

static void strlist_free(strlist_t *list) {
    free(list->items);
    *list = (strlist_t){0};
}

/* Splits on `sep` (every piece, empty ones too). */
static strlist_t split(str_t s, uint8_t sep) {
    strlist_t out = {0};
    size_t start = 0;
    for (size_t i = 0; i <= s.len; i++) {
        if (i == s.len || s.ptr[i] == sep) {
            strlist_push(&out, (str_t){s.ptr + start, i - start});
            start = i + 1;
        }
    }
    return out;
}

/* --- globs: `*` and `?` within one `/` segment, `**` across segments ------ */
/* Gatehouse's one glob dialect (gatehouse-glob, which the Rust SDK and policy
 * sets use; docs/policy-sets.md, "Globs"): `?` is one character. */

/* The length of the UTF-8 sequence that starts with `lead` (every text is
 * a WIT string, so valid UTF-8). */
static size_t utf8_len(uint8_t lead) {
    return lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
}

/* `*` and `?` on the UTF-8 bytes of both, iteratively with single
 * backtracking, so a hostile pattern costs O(pattern x text), never
 * exponential time. Literal bytes compare as bytes; `?` and each step of a
 * `*` move over one whole character, so they always start on a boundary. */
static bool match_segment(str_t pattern, str_t text) {
    size_t p = 0, t = 0;
    bool have_star = false;
    size_t star_p = 0, star_t = 0;
    while (t < text.len) {
        if (p < pattern.len && pattern.ptr[p] == '*') {
            have_star = true;
            star_p = p;
            star_t = t;
            p++;
        } else if (p < pattern.len && pattern.ptr[p] == '?') {
            p++;
            t += utf8_len(text.ptr[t]);
        } else if (p < pattern.len && pattern.ptr[p] == text.ptr[t]) {
            p++;
            t++;
        } else if (have_star) {
            p = star_p + 1;
            star_t += utf8_len(text.ptr[star_t]);
            t = star_t;
        } else {
            return false;
        }
    }
    while (p < pattern.len && pattern.ptr[p] == '*') {
        p++;
    }
    return p == pattern.len;
}

static bool match_segments(const str_t *pattern, size_t np, const str_t *text, size_t nt) {
    /* Plain segments are matched in a loop; only `**` recurses. */
    while (np > 0) {
        if (str_eq(pattern[0], str_c("**"))) {
            for (size_t skip = 0; skip <= nt; skip++) {
                if (match_segments(pattern + 1, np - 1, text + skip, nt - skip)) {
                    return true;
                }
            }
            return false;
        }
        if (nt == 0 || !match_segment(pattern[0], text[0])) {
            return false;
        }
        pattern++;
        np--;
        text++;
        nt--;
    }
    return nt == 0;
}

static bool glob_matches(str_t pattern, str_t text) {
    strlist_t p = split(pattern, '/');
    strlist_t t = split(text, '/');
    bool matched = match_segments(p.items, p.len, t.items, t.len);
    strlist_free(&p);
    strlist_free(&t);
    return matched;
}

static bool any_glob_matches(const strlist_t *patterns, str_t text) {
    for (size_t i = 0; i < patterns->len; i++) {
        if (glob_matches(patterns->items[i], text)) {
            return true;
        }
    }
    return false;
}

/* --- settings, as the Rust SDK parses them --------------------------------- */

/* The keys this policy reads, sorted: the "known settings" list of errors. */
enum {
    KEY_APPROVER_GROUPS,
    KEY_CHANGE_TYPES,
    KEY_FAIL_ENVIRONMENTS,
    KEY_MIN_APPROVALS,
    KEY_PROTECTED_PATHS,
    KEY_PROTECTED_TYPES,
    KEY_COUNT
};

static const char *const KEY_NAMES[KEY_COUNT] = {
    "approver-groups", "change-types",    "fail-environments",
    "min-approvals",   "protected-paths", "protected-types",
};

typedef struct {
    const policy_settings_t *given;
    bool read[KEY_COUNT]; /* keys a getter asked for; the rest are typos */
} settings_t;

/* Starts a settings error `setting 'KEY': ` in `err`; the caller adds the rest. */
static void settings_error(buf_t *err, str_t key) {
    buf_adds(err, "setting '");
    buf_add(err, key);
    buf_adds(err, "': ");
}

/* The value of `key` when given (the first pair with that key). */
static bool settings_get(settings_t *s, int key, str_t *value) {
    s->read[key] = true;
    str_t wanted = str_c(KEY_NAMES[key]);
    for (size_t i = 0; i < s->given->len; i++) {
        if (str_eq(str_of(&s->given->ptr[i].f0), wanted)) {
            *value = str_of(&s->given->ptr[i].f1);
            return true;
        }
    }
    return false;
}

/* A comma-separated list; items are trimmed, empty items dropped. Returns
 * false when the key is not given (and leaves `out` empty). */
static bool settings_get_list(settings_t *s, int key, strlist_t *out) {
    str_t raw;
    if (!settings_get(s, key, &raw)) {
        return false;
    }
    strlist_t pieces = split(raw, ',');
    for (size_t i = 0; i < pieces.len; i++) {
        str_t item = trim(pieces.items[i]);
        if (item.len > 0) {
            strlist_push(out, item);
        }
    }
    strlist_free(&pieces);
    return true;
}

/* A whole number from 0 to 4294967295 (decimal digits, an optional `+`, as
 * Rust's `u32::from_str` after trimming). `*value` is left alone when the key
 * is not given. Returns false with `err` set when it is malformed. */
static bool settings_get_u32(settings_t *s, int key, uint32_t *value, buf_t *err) {
    str_t raw;
    if (!settings_get(s, key, &raw)) {
        return true;
    }
    str_t text = trim(raw);
    size_t i = text.len > 0 && text.ptr[0] == '+' ? 1 : 0;
    bool ok = i < text.len;
    uint64_t n = 0;
    for (; ok && i < text.len; i++) {
        uint8_t c = text.ptr[i];
        if (c < '0' || c > '9') {
            ok = false;
        } else {
            n = n * 10 + (uint64_t)(c - '0');
            if (n > UINT32_MAX) {
                ok = false;
            }
        }
    }
    if (!ok) {
        settings_error(err, str_c(KEY_NAMES[key]));
        buf_adds(err, "expected a whole number from 0 to 4294967295, got ");
        buf_add_debug(err, raw);
        return false;
    }
    *value = (uint32_t)n;
    return true;
}

/* Fails on the first given key that no getter asked for. */
static bool settings_reject_unknown(const settings_t *s, buf_t *err) {
    for (size_t i = 0; i < s->given->len; i++) {
        str_t key = str_of(&s->given->ptr[i].f0);
        bool known = false;
        for (int k = 0; k < KEY_COUNT; k++) {
            if (s->read[k] && str_eq(key, str_c(KEY_NAMES[k]))) {
                known = true;
            }
        }
        if (known) {
            continue;
        }
        settings_error(err, key);
        buf_adds(err, "unknown setting (");
        bool any = false;
        for (int k = 0; k < KEY_COUNT; k++) {
            if (s->read[k]) {
                buf_adds(err, any ? ", " : "known settings: ");
                buf_adds(err, KEY_NAMES[k]);
                any = true;
            }
        }
        buf_adds(err, any ? ")" : "this policy takes no settings)");
        return false;
    }
    return true;
}

/* --- the policy ----------------------------------------------------------- */

/* The Facets spelling of each change kind, in the order of the WIT enum. */
#define CHANGE_KIND_COUNT 6
static const char *const CHANGE_KIND_NAMES[CHANGE_KIND_COUNT] = {
    "CREATE", "DELETE", "UPDATE_IN_PLACE", "REPLACE", "RECREATE", "NO_OPERATION",
};

/* Defaults match the reference Rego rule in `shared/reference/rego/`. */
static const char *const DEFAULT_TYPES[] = {"mysql", "postgres", "aws_db_instance", "s3"};

/* Parsed settings. The strings borrow from the settings they came from (or
 * from static defaults), so a config lives no longer than its settings. */
typedef struct {
    bool change_kinds[CHANGE_KIND_COUNT];
    strlist_t protected_types;
    strlist_t protected_paths;
    strlist_t fail_environments;
    strlist_t approver_groups;
    uint32_t min_approvals;
} config_t;

static void config_free(config_t *c) {
    strlist_free(&c->protected_types);
    strlist_free(&c->protected_paths);
    strlist_free(&c->fail_environments);
    strlist_free(&c->approver_groups);
}

/* Parses `given` into `c`, in the order of the Rust policy so the first error
 * reported is the same. On failure `err` holds `setting 'KEY': ...`. */
static bool config_parse(const policy_settings_t *given, config_t *c, buf_t *err) {
    settings_t s = {.given = given};
    *c = (config_t){.min_approvals = 1};

    strlist_t names = {0};
    if (settings_get_list(&s, KEY_CHANGE_TYPES, &names)) {
        if (names.len == 0) {
            settings_error(err, str_c("change-types"));
            buf_adds(err, "expected a comma-separated list with at least one item, got an "
                          "empty value");
            strlist_free(&names);
            return false;
        }
        for (size_t i = 0; i < names.len; i++) {
            str_t name = trim(names.items[i]);
            bool found = false;
            for (int k = 0; k < CHANGE_KIND_COUNT; k++) {
                if (eq_ignore_ascii_case(name, str_c(CHANGE_KIND_NAMES[k]))) {
                    c->change_kinds[k] = true;
                    found = true;
                }
            }
            if (!found) {
                settings_error(err, str_c("change-types"));
                buf_adds(err, "unknown change type ");
                buf_add_debug(err, names.items[i]);
                buf_adds(err, "; expected some of CREATE, DELETE, UPDATE_IN_PLACE, REPLACE, "
                              "RECREATE, NO_OPERATION");
                strlist_free(&names);
                return false;
            }
        }
    } else {
        c->change_kinds[GATEHOUSE_POLICY_TYPES_CHANGE_KIND_DELETE] = true;
        c->change_kinds[GATEHOUSE_POLICY_TYPES_CHANGE_KIND_REPLACE] = true;
        c->change_kinds[GATEHOUSE_POLICY_TYPES_CHANGE_KIND_RECREATE] = true;
    }
    strlist_free(&names);

    if (!settings_get_list(&s, KEY_PROTECTED_TYPES, &c->protected_types)) {
        for (size_t i = 0; i < sizeof DEFAULT_TYPES / sizeof DEFAULT_TYPES[0]; i++) {
            strlist_push(&c->protected_types, str_c(DEFAULT_TYPES[i]));
        }
    }
    settings_get_list(&s, KEY_PROTECTED_PATHS, &c->protected_paths);
    if (!settings_get_list(&s, KEY_FAIL_ENVIRONMENTS, &c->fail_environments)) {
        strlist_push(&c->fail_environments, str_c("prod*"));
    }
    settings_get_list(&s, KEY_APPROVER_GROUPS, &c->approver_groups);
    if (!settings_get_u32(&s, KEY_MIN_APPROVALS, &c->min_approvals, err)) {
        return false;
    }
    if (c->min_approvals == 0) {
        settings_error(err, str_c("min-approvals"));
        buf_adds(err, "must be at least 1");
        return false;
    }
    if (c->protected_types.len == 0 && c->protected_paths.len == 0) {
        settings_error(err, str_c("protected-types"));
        buf_adds(err, "protected-types and protected-paths are both empty, so nothing is "
                      "protected; give at least one");
        return false;
    }
    return settings_reject_unknown(&s, err);
}

static bool is_protected(const config_t *c, const gatehouse_policy_types_resource_change_t *r) {
    return any_glob_matches(&c->protected_types, str_of(&r->resource_type)) ||
           any_glob_matches(&c->protected_paths, str_of(&r->resource_path));
}

/* The host-side filter selecting the resources changed in one of the
 * configured ways (the flags follow the order of the change-kind enum). */
static const gatehouse_policy_types_change_kinds_t CHANGE_KIND_FLAGS[CHANGE_KIND_COUNT] = {
    GATEHOUSE_POLICY_TYPES_CHANGE_KINDS_CREATE,  GATEHOUSE_POLICY_TYPES_CHANGE_KINDS_DELETE,
    GATEHOUSE_POLICY_TYPES_CHANGE_KINDS_UPDATE_IN_PLACE,
    GATEHOUSE_POLICY_TYPES_CHANGE_KINDS_REPLACE, GATEHOUSE_POLICY_TYPES_CHANGE_KINDS_RECREATE,
    GATEHOUSE_POLICY_TYPES_CHANGE_KINDS_NO_OPERATION,
};

static gatehouse_policy_types_resource_filter_t destructive_filter(const config_t *c) {
    gatehouse_policy_types_resource_filter_t filter = {0};
    for (int k = 0; k < CHANGE_KIND_COUNT; k++) {
        if (c->change_kinds[k]) {
            filter.kinds = (gatehouse_policy_types_change_kinds_t)(filter.kinds |
                                                                   CHANGE_KIND_FLAGS[k]);
        }
    }
    filter.resource_type.is_some = false;
    return filter;
}

/* Resources asked for per call; the host may return fewer (it caps a page). */
#define RESOURCES_PER_CALL 1024

/* A growable list of reasons, the first `reserved` slots left for the caller. */
typedef struct {
    gatehouse_policy_types_reason_t *items;
    size_t len;
    size_t cap;
} reasons_t;

static gatehouse_policy_types_reason_t *reasons_push(reasons_t *list) {
    if (list->len == list->cap) {
        list->cap = grow(list->cap, list->len + 1);
        list->items = xrealloc(list->items, list->cap, sizeof(gatehouse_policy_types_reason_t));
    }
    return &list->items[list->len++];
}

/* Hands the reasons over as a WIT list (freed by post-return). */
static gatehouse_policy_types_list_reason_t reasons_take(reasons_t *list) {
    gatehouse_policy_types_list_reason_t out = {list->items, list->len};
    if (list->len == 0) {
        free(list->items);
        out.ptr = NULL;
    }
    *list = (reasons_t){0};
    return out;
}

/* One reason per destructive change to a protected resource, in input order,
 * after `reserved` empty slots. Only the resources changed in a configured way
 * are read: the host filters them (`find-resources`), page by page. */
static reasons_t change_reasons(policy_borrow_release_t release, const config_t *c,
                                size_t reserved) {
    reasons_t list = {0};
    for (size_t i = 0; i < reserved; i++) {
        *reasons_push(&list) = (gatehouse_policy_types_reason_t){0};
    }
    gatehouse_policy_types_resource_filter_t filter = destructive_filter(c);
    uint32_t start = 0;
    for (;;) {
        gatehouse_policy_types_resource_page_t page;
        gatehouse_policy_input_method_release_find_resources(release, &filter, start, RESOURCES_PER_CALL,
                                                             &page);
        for (size_t i = 0; i < page.resources.len; i++) {
            const gatehouse_policy_types_resource_change_t *r = &page.resources.ptr[i];
            if (r->change >= CHANGE_KIND_COUNT || !c->change_kinds[r->change] ||
                !is_protected(c, r)) {
                continue;
            }
            buf_t message = {0};
            buf_adds(&message, CHANGE_KIND_NAMES[r->change]);
            buf_adds(&message, " of ");
            buf_add(&message, str_of(&r->resource_type));
            buf_adds(&message, " ");
            buf_add(&message, str_of(&r->resource_path));
            gatehouse_policy_types_reason_t *reason = reasons_push(&list);
            reason->message = buf_take(&message);
            reason->resource_path.is_some = true;
            reason->resource_path.val = str_dup(str_of(&r->resource_path));
        }
        /* Go on only forward, so a page that does not advance ends the loop. */
        bool more = page.next.is_some && page.next.val > start;
        uint32_t next = page.next.val;
        gatehouse_policy_types_resource_page_free(&page);
        if (!more) {
            break;
        }
        start = next;
    }
    return list;
}

/* `N destructive change(s) to protected resources` */
static void add_count(buf_t *b, size_t count) {
    buf_addu(b, count);
    buf_adds(b, count == 1 ? " destructive change" : " destructive changes");
    buf_adds(b, " to protected resources");
}

static gatehouse_policy_types_reason_t reason_without_path(buf_t *message) {
    return (gatehouse_policy_types_reason_t){
        .message = buf_take(message),
        .resource_path = {.is_some = false},
    };
}

/* The rule itself, on the release read through the borrowed handle: the
 * summary (environment, resource count) and the selected resources only. */
static void decide(policy_borrow_release_t release, const config_t *c, policy_decision_t *ret) {
    gatehouse_policy_types_release_summary_t summary;
    gatehouse_policy_input_method_release_summary(release, &summary);
    /* One slot kept in front for the fail verdict's summary reason. */
    reasons_t reasons = change_reasons(release, c, 1);
    size_t count = reasons.len - 1;

    buf_t line = {0};
    add_count(&line, count);
    buf_adds(&line, " among ");
    buf_addu(&line, summary.resource_count);
    buf_adds(&line, " resources");
    /* The host borrows the message: this code still owns and frees it. */
    policy_string_t log_message = {line.ptr, line.len};
    gatehouse_policy_host_log(GATEHOUSE_POLICY_HOST_LEVEL_DEBUG, &log_message);
    buf_free(&line);

    if (count == 0) {
        free(reasons.items);
        gatehouse_policy_types_release_summary_free(&summary);
        buf_t message = {0};
        buf_adds(&message, "no destructive change to a protected resource");
        ret->tag = GATEHOUSE_POLICY_TYPES_DECISION_AUTO_APPROVE;
        ret->val.auto_approve.ptr = xrealloc(NULL, 1, sizeof(gatehouse_policy_types_reason_t));
        ret->val.auto_approve.len = 1;
        ret->val.auto_approve.ptr[0] = reason_without_path(&message);
        return;
    }

    str_t environment = str_of(&summary.environment_name);
    for (size_t i = 0; i < c->fail_environments.len; i++) {
        str_t pattern = c->fail_environments.items[i];
        if (!glob_matches(pattern, environment)) {
            continue;
        }
        buf_t message = {0};
        add_count(&message, count);
        buf_adds(&message, " in environment ");
        buf_add(&message, environment);
        buf_adds(&message, " (protected by ");
        buf_add_debug(&message, pattern);
        buf_adds(&message, "); run them through a maintenance change instead");
        reasons.items[0] = reason_without_path(&message);
        ret->tag = GATEHOUSE_POLICY_TYPES_DECISION_FAIL;
        ret->val.fail = reasons_take(&reasons);
        gatehouse_policy_types_release_summary_free(&summary);
        return;
    }
    gatehouse_policy_types_release_summary_free(&summary);

    /* No summary reason: drop the slot kept in front. */
    memmove(reasons.items, reasons.items + 1, count * sizeof(gatehouse_policy_types_reason_t));
    reasons.len = count;
    gatehouse_policy_types_approval_request_t *request = &ret->val.require_approval;
    ret->tag = GATEHOUSE_POLICY_TYPES_DECISION_REQUIRE_APPROVAL;
    request->reasons = reasons_take(&reasons);
    request->approver_groups.len = c->approver_groups.len;
    request->approver_groups.ptr = NULL;
    if (c->approver_groups.len > 0) {
        request->approver_groups.ptr =
            xrealloc(NULL, c->approver_groups.len, sizeof(policy_string_t));
        for (size_t i = 0; i < c->approver_groups.len; i++) {
            request->approver_groups.ptr[i] = str_dup(c->approver_groups.items[i]);
        }
    }
    request->min_approvals = c->min_approvals;
    request->instructions.is_some = true;
    request->instructions.val = str_dup(str_c(INSTRUCTIONS));
}

/* --- the exports of the `policy` world ------------------------------------- */

void exports_policy_describe(policy_policy_info_t *ret) {
    ret->name = str_dup(str_c(NAME));
    ret->version = str_dup(str_c(VERSION));
    ret->description = str_dup(str_c(DESCRIPTION));
}

bool exports_policy_validate_settings(policy_settings_t *settings, policy_string_t *err) {
    config_t config;
    buf_t error = {0};
    bool ok = config_parse(settings, &config, &error);
    config_free(&config);
    policy_settings_free(settings);
    if (!ok) {
        *err = buf_take(&error);
    }
    return ok;
}

bool exports_policy_evaluate(policy_borrow_release_t release, policy_settings_t *settings,
                             policy_decision_t *ret, policy_string_t *err) {
    /* The host may call evaluate alone: validate again, as the Rust SDK does. */
    config_t config;
    buf_t error = {0};
    bool ok = config_parse(settings, &config, &error);
    if (ok) {
        decide(release, &config, ret);
    } else {
        buf_t message = {0};
        buf_adds(&message, "invalid settings: ");
        buf_add(&message, (str_t){error.ptr, error.len});
        buf_free(&error);
        *err = buf_take(&message);
    }
    /* The config borrows from the settings: free it first. The release is
     * only borrowed for this call: the host keeps it, but the borrow must be
     * ended before returning (the canonical ABI traps otherwise). */
    config_free(&config);
    policy_settings_free(settings);
    gatehouse_policy_input_release_drop_borrow(release);
    return ok;
}
