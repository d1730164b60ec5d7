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
 * Output, per element: three u32 {offset of its UUID, intervals written so far, flags}; per interval: two
 * doubles [first, last + 1), exact (below 10^15). Flags: UPPER (the UUID has uppercase hex digits),
 * UNSORTED (its intervals are not sorted, disjoint and non-adjacent).
 *
 * scan() stops after `limit` bytes and is called again to go on (state in the globals below): V8 compiles
 * a WebAssembly function with its baseline compiler first and uses the optimized code from the next call,
 * so a call per chunk, not one call for a whole 16 MB set, runs at the optimized speed after a few chunks.
 */
typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long long u64;

#define UUID_LENGTH 36
#define MAX_DIGITS 15
#define UPPER 1u
#define UNSORTED 2u

/* Where the linker ends static data and the stack: the caller's free memory starts here. */
extern u8 __heap_base;

u32 heap_base(void) { return (u32)&__heap_base; }

/* Where scan() goes on from: the next byte, the counts so far, and the element it is inside (if any). */
static u32 pos, elements, intervals, inside, element_start, element_flags;
static u64 last_end;

void scan_start(void) {
    pos = elements = intervals = inside = 0;
}

u32 scan_elements(void) { return elements; }

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

/*
 * Scans from the saved position until the text ends (returns 0) or `limit` is passed (returns 1: call
 * again). Returns -1 when the text is not in the servers' form: the exact parser must read it.
 */
int scan(const u8 *p, u32 n, u32 limit, u32 *element_out, double *run_out) {
    u32 i = pos, start = element_start, flags = element_flags;
    u64 end = last_end;
    if (inside) goto next_interval;
    for (;;) {
        u32 c;
        while ((c = p[i]) == ',' || is_space(c)) i++;
        if (i >= n) {
            pos = i;
            return 0;
        }
        if (i >= limit) {
            pos = i;
            inside = 0;
            return 1;
        }
        start = i;
        flags = 0;
        end = 0;
        if (i + UUID_LENGTH > n || !is_uuid(p + i, &flags)) return -1;
        i += UUID_LENGTH;
        if (p[i] != ':') return -1;
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
            if (i >= limit && i < n) {
                pos = i;
                inside = 1;
                element_start = start;
                element_flags = flags;
                last_end = end;
                return 1;
            }
        }
        while (is_space(p[i])) i++;
        if (i < n && p[i] != ',') return -1;
        element_out[3 * elements] = start;
        element_out[3 * elements + 1] = intervals;
        element_out[3 * elements + 2] = flags;
        elements++;
    }
}
