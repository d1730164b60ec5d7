/*
 * The fast path of the MySQL GTID parser for large sets (components/gtid/mysqlScan.ts), compiled to
 * WebAssembly by `npm run build:wasm` and embedded in mysqlScanWasm.ts. Freestanding C: no libc, no
 * allocation, no I/O; the caller owns the memory.
 *
 * It reads only the form servers print — `uuid:a-b:c,\nuuid2:d-e` — and nothing else: whitespace only
 * between elements, no tags, sequence numbers of 1 to 15 digits. Anything else, every error included,
 * makes scan() return -1 and the exact parser (mysql.ts) reads the whole text again: both paths give one
 * answer, and every error message comes from one place.
 *
 * Input: p[0..n) followed by at least 16 zero bytes (so no loop needs a bound check before a read).
 * Output, per element: five u32 (ELEMENT) {offset of its UUID, intervals written so far, flags, reference
 * element + 1 or 0, intervals shared with it}; per interval: two doubles [first, last + 1), exact (below
 * 10^15). Flags: UPPER (the UUID has uppercase hex digits), UNSORTED (its intervals are not sorted,
 * disjoint and non-adjacent).
 *
 * scan() stops after `limit` bytes and is called again to go on (state in the globals below): V8 compiles
 * a WebAssembly function with its baseline compiler first and uses the optimized code from the next call,
 * so a call per chunk, not one call for a whole 16 MB set, runs at the optimized speed after a few chunks.
 *
 * Checking the switch rule on sets of megabytes: gtid-S and gtid-E (and gtid-P) are mostly the same text —
 * per UUID, the same intervals up to the last few. One set is scanned in full and made the reference
 * (reference()); the others are scanned against it: each element is compared with the reference's element
 * of the same UUID 16 bytes at a time (WebAssembly SIMD), and only the intervals after the first difference
 * are parsed and written (the ones before are the reference's own, already read and checked).
 * within_reference() and reference_within() then answer containment from those few intervals.
 */
#include <wasm_simd128.h>

typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long long u64;

#define UUID_LENGTH 36
#define MAX_DIGITS 15
#define UPPER 1u
#define UNSORTED 2u
#define ELEMENT 5

/* Where the linker ends static data and the stack: the caller's free memory starts here. */
extern u8 __heap_base;

u32 heap_base(void) { return (u32)&__heap_base; }

/* What scan() was doing when it stopped at a chunk's end. */
enum { BETWEEN, INTERVALS, COMPARING };

/* Where scan() goes on from: the next byte, the counts so far, and the element it is inside (if any). */
static u32 pos, elements, intervals, state, element_start, element_flags, element_ref, element_shared;
/* Inside a comparison: the byte of the reference's text, and the ':' seen so far. */
static u32 ref_pos, colons;
static u64 last_end;

/* The reference set: scanned before, canonical, each UUID once; its UUIDs hashed into a table. */
static const u8 *ref_text;
static const u32 *ref_elements, *ref_table;
static const double *ref_runs;
static u32 ref_mask, against;

u32 scan_elements(void) { return elements; }

/* Starts a scan; against the reference when `against_reference` is not 0. */
void scan_start(u32 against_reference) {
    pos = elements = intervals = state = 0;
    against = against_reference;
}

/* As mysql.ts: space, tab, newline, vertical tab, form feed, carriage return. */
static inline int is_space(u32 c) { return c == 32 || c - 9 <= 4; }

/* Whether the 36 bytes at p are a UUID in 8-4-4-4-12 hex form; sets UPPER in *flags when they use A-F. */
static inline int is_uuid(const u8 *p, u32 *flags) {
    for (u32 k = 0; k < UUID_LENGTH; k++) {
        u32 d = p[k];
        if (k == 8 || k == 13 || k == 18 || k == 23) {
            if (d != '-') return 0;
        } else if (d - 'A' <= 5) {
            *flags |= UPPER;
        } else if (!(d - '0' <= 9 || d - 'a' <= 5)) {
            return 0;
        }
    }
    return 1;
}

static inline u64 load64(const u8 *p) {
    u64 v;
    __builtin_memcpy(&v, p, 8);
    return v;
}

static inline u32 load32(const u8 *p) {
    u32 v;
    __builtin_memcpy(&v, p, 4);
    return v;
}

/* OR-ing 0x20 into each byte folds A-F onto a-f and leaves digits and '-' as they are: on UUID text, an
 * exact case-insensitive comparison. */
#define FOLD64 0x2020202020202020ull
#define FOLD32 0x20202020u
#define GOLDEN 0x9e3779b97f4a7c15ull

static inline u32 uuid_hash(const u8 *p) {
    u64 h = 0;
    for (u32 k = 0; k < 32; k += 8) h = (h ^ (load64(p + k) | FOLD64)) * GOLDEN;
    h = (h ^ (load32(p + 32) | FOLD32)) * GOLDEN;
    return (u32)(h >> 32);
}

static inline int same_uuid(const u8 *a, const u8 *b) {
    for (u32 k = 0; k < 32; k += 8) {
        if ((load64(a + k) | FOLD64) != (load64(b + k) | FOLD64)) return 0;
    }
    return (load32(a + 32) | FOLD32) == (load32(b + 32) | FOLD32);
}

/* Where the intervals of element e begin (they end at el[ELEMENT * e + 1]). */
static inline u32 first_interval(const u32 *el, u32 e) { return e == 0 ? 0 : el[ELEMENT * e - ELEMENT + 1]; }

/* The reference's element of the UUID at p, plus one; 0 when it has none. */
static inline u32 ref_lookup(const u8 *p) {
    u32 h = uuid_hash(p) & ref_mask, f;
    while ((f = ref_table[h]) != 0 && !same_uuid(ref_text + ref_elements[ELEMENT * (f - 1)], p)) {
        h = (h + 1) & ref_mask;
    }
    return f;
}

/*
 * Makes a scanned set the reference of the scans that follow: text, element count, elements, intervals.
 * `table` is `size` zeroed u32, `size` a power of two above twice the element count. Returns -1 when the
 * set cannot be one — an element with intervals not canonical (UNSORTED), or a UUID twice — else 0.
 */
int reference(const u8 *text, u32 count, const u32 *el, const double *runs, u32 *table, u32 size) {
    u32 mask = size - 1;
    for (u32 e = 0; e < count; e++) {
        const u8 *id = text + el[ELEMENT * e];
        u32 h = uuid_hash(id) & mask;
        if (el[ELEMENT * e + 2] & UNSORTED) return -1;
        for (; table[h] != 0; h = (h + 1) & mask) {
            if (same_uuid(text + el[ELEMENT * (table[h] - 1)], id)) return -1;
        }
        table[h] = e + 1;
    }
    ref_text = text;
    ref_elements = el;
    ref_runs = runs;
    ref_table = table;
    ref_mask = mask;
    return 0;
}

/* Saves all of scan()'s state, to go on from byte `at` at the next call, and returns 1 (call again). */
static int stop(u32 at, u32 what, u32 start, u32 flags, u32 ref, u32 shared, u32 j, u32 c, u64 end) {
    pos = at;
    state = what;
    element_start = start;
    element_flags = flags;
    element_ref = ref;
    element_shared = shared;
    ref_pos = j;
    colons = c;
    last_end = end;
    return 1;
}

/*
 * Scans from the saved position until the text ends (returns 0) or `limit` is passed (returns 1: call
 * again). Returns -1 when the text is not in the servers' form: the exact parser must read it.
 */
int scan(const u8 *p, u32 n, u32 limit, u32 *element_out, double *run_out) {
    u32 i = pos, start = element_start, flags = element_flags, ref = element_ref, shared = element_shared;
    u32 j = ref_pos, c = colons;
    u64 end = last_end;
    if (state == COMPARING) goto compare;
    if (state == INTERVALS) goto next_interval;
    for (;;) {
        u32 ch;
        while ((ch = p[i]) == ',' || is_space(ch)) i++;
        if (i >= n) {
            pos = i;
            return 0;
        }
        if (i >= limit) return stop(i, BETWEEN, start, flags, ref, shared, j, c, end);
        start = i;
        flags = ref = shared = 0;
        end = 0;
        if (i + UUID_LENGTH > n || !is_uuid(p + i, &flags)) return -1;
        i += UUID_LENGTH;
        if (p[i] != ':') return -1;
        if (against && (ref = ref_lookup(p + start)) != 0) {
            /* From the ':' after the UUID on, compare with the reference's element, counting the ':'. */
            j = ref_elements[ELEMENT * (ref - 1)] + UUID_LENGTH;
            c = 0;
        compare:
            for (;;) {
                if (i >= limit) return stop(i, COMPARING, start, flags, ref, shared, j, c, end);
                /* 16 bytes at a time: where they differ, where p has a separator (',', whitespace, the 0
                 * after the text: all below '-', as ':' and the digits are not), and where it has ':'. */
                v128_t a = wasm_v128_load(p + i);
                v128_t differ = wasm_i8x16_ne(a, wasm_v128_load(ref_text + j));
                u32 stop = wasm_i8x16_bitmask(wasm_v128_or(differ, wasm_u8x16_lt(a, wasm_i8x16_splat('-'))));
                u32 colon = wasm_i8x16_bitmask(wasm_i8x16_eq(a, wasm_i8x16_splat(':')));
                if (stop == 0) {
                    c += (u32)__builtin_popcount(colon);
                    i += 16;
                    j += 16;
                    continue;
                }
                u32 k = (u32)__builtin_ctz(stop);
                c += (u32)__builtin_popcount(colon & ((1u << k) - 1));
                i += k;
                j += k;
                break;
            }
            /* p[i] differs from the reference or ends the element, and c >= 1 intervals have begun (the
             * first ':' is shared). When both the last of them and the reference's end there, all c are
             * shared; else the last differs, and is parsed again from its ':'. */
            u32 x = p[i], y = ref_text[j];
            shared = c;
            if (!((x == ':' || x < '-') && (y == ':' || y < '-'))) {
                shared--;
                do {
                    i--;
                    j--;
                } while (p[i] != ':');
            }
            /* The last shared interval's end, as scanning it would have left it: its last number + 1. */
            if (shared > 0) {
                u64 last = 0;
                for (u64 scale = 1; ref_text[--j] - '0' <= 9u; scale *= 10) last += (ref_text[j] - '0') * scale;
                end = last + 1;
            }
        }
    next_interval:
        while (p[i] == ':') {
            u32 d, from = ++i;
            u64 first = 0, last;
            while ((d = (u32)p[i] - '0') <= 9) {
                first = first * 10 + d;
                i++;
            }
            if (first == 0 || i - from > MAX_DIGITS) return -1;
            last = first;
            if (p[i] == '-') {
                from = ++i;
                last = 0;
                while ((d = (u32)p[i] - '0') <= 9) {
                    last = last * 10 + d;
                    i++;
                }
                if (last < first || i - from > MAX_DIGITS) return -1;
            }
            if (first <= end) flags |= UNSORTED;
            end = last + 1;
            run_out[2 * intervals] = (double)(long long)first;
            run_out[2 * intervals + 1] = (double)(long long)end;
            intervals++;
            if (i >= limit && i < n) return stop(i, INTERVALS, start, flags, ref, shared, j, c, end);
        }
        while (is_space(p[i])) i++;
        if (i < n && p[i] != ',') return -1;
        u32 *out = element_out + ELEMENT * elements;
        out[0] = start;
        out[1] = intervals;
        out[2] = flags;
        out[3] = ref;
        out[4] = shared;
        elements++;
    }
}

/* Whether each of the sorted intervals sub[k..to) lies in one of the canonical intervals sup[j..m). */
static int runs_within(const double *sub, u32 k, u32 to, const double *sup, u32 j, u32 m) {
    for (; k < to; k++) {
        double first = sub[2 * k], end = sub[2 * k + 1];
        while (j < m && sup[2 * j + 1] < end) j++;
        if (j == m || sup[2 * j] > first) return 0;
    }
    return 1;
}

/*
 * Whether the set `sub`, scanned against the reference `sup`, is contained in it. Returns 1 or 0, or -1
 * when it cannot tell from this form (intervals of `sub` not canonical): the caller decides on parsed sets.
 */
int within_reference(const u32 *sup_el, const double *sup_runs, u32 sub_count, const u32 *sub_el,
                     const double *sub_runs) {
    for (u32 e = 0; e < sub_count; e++) {
        const u32 *x = sub_el + ELEMENT * e;
        u32 k = first_interval(sub_el, e);
        /* No interval of its own: every one is the reference's. */
        if (k == x[1]) continue;
        if (x[3] == 0) return 0;
        if (x[2] & UNSORTED) return -1;
        /* Canonical, its own intervals come after the shared ones: so do the ones holding them. */
        u32 f = x[3] - 1;
        if (!runs_within(sub_runs, k, x[1], sup_runs, first_interval(sup_el, f) + x[4], sup_el[ELEMENT * f + 1])) {
            return 0;
        }
    }
    return 1;
}

/*
 * Whether the set `sup`, scanned against the reference `sub`, contains it. `marks` is one zeroed u32 per
 * element of `sub`. Returns 1 or 0, or -1 when it cannot tell from this form (intervals of `sup` not
 * canonical, a UUID twice in `sup`): the caller decides on parsed sets.
 */
int reference_within(u32 sup_count, const u32 *sup_el, const double *sup_runs, u32 sub_count, const u32 *sub_el,
                     const double *sub_runs, u32 *marks) {
    for (u32 e = 0; e < sup_count; e++) {
        u32 ref = sup_el[ELEMENT * e + 3];
        if (ref == 0) continue;
        if (marks[ref - 1] != 0) return -1;
        marks[ref - 1] = e + 1;
    }
    for (u32 f = 0; f < sub_count; f++) {
        /* Every element of the reference holds an interval: one whose UUID `sup` lacks is not contained. */
        if (marks[f] == 0) return 0;
        u32 e = marks[f] - 1;
        const u32 *x = sup_el + ELEMENT * e;
        if (x[2] & UNSORTED) return -1;
        /* The first x[4] intervals are the same in both; the rest of `sub` lies beyond them, as do the
         * intervals of `sup` that can hold it. */
        if (!runs_within(sub_runs, first_interval(sub_el, f) + x[4], sub_el[ELEMENT * f + 1], sup_runs,
                         first_interval(sup_el, e), x[1])) {
            return 0;
        }
    }
    return 1;
}
