/**
 * Interval lists ("runs") of GTID sequence numbers: the core of MySQL GTID set arithmetic. Pure.
 *
 * A run list is flat and half-open — `[start0, end0, start1, end1, …]` with each end *exclusive* — sorted,
 * disjoint and never adjacent (`end_i < start_{i+1}`), like MySQL's own `Gtid_set` intervals. Half-open
 * ends make union, subtraction and containment pure comparisons and copies: no operation computes a new
 * number, so a boundary keeps the exact type it was parsed with.
 *
 * Boundaries are `number`s up to 2^53 and `bigint`s above (MySQL sequence numbers reach 2^63-2). The
 * representation is canonical — a boundary ≤ 2^53 is always a number — so `===` compares boundaries exactly,
 * and JavaScript's `<` between a number and a bigint is exact too. Sets seen in practice never leave the
 * fast number path.
 */

/** A run boundary: a `number` when ≤ 2^53, a `bigint` above (canonical: never a bigint ≤ 2^53). */
export type Seq = number | bigint;

/**
 * Flat, sorted, disjoint, non-adjacent half-open intervals `[s0, e0, s1, e1, …]`: a Float64Array when every
 * boundary is a number (what parsing produces), an array otherwise. Never mutated once built.
 */
export type Runs = ArrayLike<Seq>;

/** 2^53: the largest integer up to which every integer is an exact `number`. */
const EXACT = 2 ** 53;
const EXACT_BIG = BigInt(EXACT);

/** The canonical form of an integer: a number when ≤ 2^53, else the bigint itself. */
export function seq(v: bigint): Seq {
    return v <= EXACT_BIG ? Number(v) : v;
}

/** v + 1, canonical (turns a closed end into an exclusive one). */
export function plusOne(v: Seq): Seq {
    if (typeof v === "bigint") {
        return v + 1n;
    }
    return v < EXACT ? v + 1 : BigInt(v) + 1n;
}

/** v - 1, canonical (turns an exclusive end back into the closed end MySQL prints). */
export function minusOne(v: Seq): Seq {
    return typeof v === "bigint" ? seq(v - 1n) : v - 1;
}

/**
 * Accumulates intervals in parse order and notices whether they came sorted, disjoint and non-adjacent
 * (what servers print), so that {@link RunsBuilder.finish} only sorts when it has to. Boundaries go to a
 * Float64Array sized from a hint (the parser's estimate from the element's length), so a million intervals
 * cost no per-element allocation and little garbage; a bigint boundary moves the list to a plain array.
 */
export class RunsBuilder {
    private f: Float64Array;
    private n = 0;
    private big: Seq[] | undefined;
    private canonical = true;

    /** @param hint how many intervals to make room for; it grows beyond as needed. @default 8 */
    constructor(hint = 8) {
        this.f = new Float64Array(Math.max(4, hint * 2));
    }

    /** Adds `[start, end)`; `start < end` is the caller's to check. */
    add(start: Seq, end: Seq): void {
        if (this.big === undefined && typeof end === "number") {
            const n = this.n;
            if (n > 0 && (start as number) <= this.f[n - 1]) {
                this.canonical = false;
            }
            if (n === this.f.length) {
                const grown = new Float64Array(n * 2);
                grown.set(this.f);
                this.f = grown;
            }
            this.f[n] = start as number;
            this.f[n + 1] = end;
            this.n = n + 2;
            return;
        }
        if (this.big === undefined) {
            this.big = Array.from(this.f.subarray(0, this.n));
        }
        const r = this.big;
        if (r.length > 0 && start <= r[r.length - 1]) {
            this.canonical = false;
        }
        r.push(start, end);
    }

    /** The canonical run list: sorted, overlapping and adjacent intervals merged. */
    finish(): Runs {
        const r: Runs = this.big ?? (this.n * 2 < this.f.length ? this.f.slice(0, this.n) : this.f.subarray(0, this.n));
        return this.canonical ? r : normalize(r);
    }
}

/**
 * Sorts intervals by start and merges overlapping and adjacent ones. Intervals already in order (adjacent
 * ones, as in `1-3:4-6`) are merged in one pass, without sorting.
 */
export function normalize(r: Runs): Runs {
    let sorted = true;
    for (let i = 2; i < r.length && sorted; i += 2) {
        sorted = r[i - 2] <= r[i];
    }
    if (sorted && r instanceof Float64Array) {
        return mergeSorted(r);
    }
    const order = Array.from({ length: r.length >> 1 }, (_, i) => i << 1);
    if (!sorted) {
        order.sort((x, y) => (r[x] < r[y] ? -1 : r[x] > r[y] ? 1 : 0));
    }
    const out: Seq[] = [];
    for (const k of order) {
        pushMerged(out, r[k], r[k + 1]);
    }
    return out;
}

/** {@link normalize} of numbers sorted by start: one pass into a Float64Array. */
function mergeSorted(r: Float64Array): Float64Array {
    const out = new Float64Array(r.length);
    let m = 0;
    for (let i = 0; i < r.length; i += 2) {
        if (m > 0 && r[i] <= out[m - 1]) {
            if (r[i + 1] > out[m - 1]) {
                out[m - 1] = r[i + 1];
            }
        } else {
            out[m] = r[i];
            out[m + 1] = r[i + 1];
            m += 2;
        }
    }
    return m < out.length ? out.slice(0, m) : out;
}

/** Appends `[s, e)` to a canonical list whose last start is ≤ s, merging when it touches the last interval. */
function pushMerged(out: Seq[], s: Seq, e: Seq): void {
    const m = out.length;
    if (m > 0 && s <= out[m - 1]) {
        if (e > out[m - 1]) {
            out[m - 1] = e;
        }
    } else {
        out.push(s, e);
    }
}

/**
 * The index of the first interval at or after `from` whose end is beyond `s` (`a.length` when none),
 * given that the interval at `from` ends at or before `s`. Galloping: O(log distance), so a small set
 * checked against a huge one costs little, and neighbouring intervals cost one probe.
 */
function firstEndAfter(a: Runs, s: Seq, from: number): number {
    let lo = from;
    let step = 2;
    let hi = lo + step;
    while (hi < a.length && a[hi + 1] <= s) {
        lo = hi;
        step *= 2;
        hi = lo + step;
    }
    if (hi > a.length) {
        hi = a.length;
    }
    // a[lo + 1] <= s, and hi is a.length or a[hi + 1] > s.
    while (hi - lo > 2) {
        const mid = lo + (((hi - lo) >> 2) << 1);
        if (a[mid + 1] <= s) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return hi;
}

/** a ⊇ b for canonical run lists. */
export function runsContain(a: Runs, b: Runs): boolean {
    if (b.length === 0) {
        return true;
    }
    const an = a.length;
    let i = 0;
    for (let j = 0; j < b.length; j += 2) {
        const s = b[j];
        if (i >= an) {
            return false;
        }
        if (a[i + 1] <= s) {
            // Most often the next interval of a (b holds most of them): one step before galloping.
            i += 2;
            if (i < an && a[i + 1] <= s) {
                i = firstEndAfter(a, s, i);
            }
            if (i >= an) {
                return false;
            }
        }
        if (a[i] > s || a[i + 1] < b[j + 1]) {
            return false;
        }
    }
    return true;
}

/** a \ b for canonical run lists. */
export function runsSubtract(a: Runs, b: Runs): Runs {
    if (b.length === 0) {
        return a;
    }
    const out: Seq[] = [];
    const bn = b.length;
    let j = 0;
    for (let i = 0; i < a.length; i += 2) {
        let s = a[i];
        const e = a[i + 1];
        if (j < bn && b[j + 1] <= s) {
            j = firstEndAfter(b, s, j);
        }
        for (let k = j; s < e; k += 2) {
            if (k >= bn || b[k] >= e) {
                out.push(s, e);
                break;
            }
            if (b[k] > s) {
                out.push(s, b[k]);
            }
            s = b[k + 1];
        }
    }
    return out;
}

/** a ∪ b for canonical run lists. */
export function runsUnion(a: Runs, b: Runs): Runs {
    if (b.length === 0) {
        return a;
    }
    if (a.length === 0) {
        return b;
    }
    const out: Seq[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
        if (j >= b.length || (i < a.length && a[i] <= b[j])) {
            pushMerged(out, a[i], a[i + 1]);
            i += 2;
        } else {
            pushMerged(out, b[j], b[j + 1]);
            j += 2;
        }
    }
    return out;
}

/** Whether two canonical run lists are the same set. */
export function runsEqual(a: Runs, b: Runs): boolean {
    if (a.length !== b.length) {
        return false;
    }
    for (let i = 0; i < a.length; i++) {
        if (a[i] !== b[i]) {
            return false;
        }
    }
    return true;
}

/** MySQL's text for a run list: `:1-5:7:9-12` (closed intervals, a single number for one GTID). */
export function formatRuns(r: Runs): string {
    let out = "";
    for (let i = 0; i < r.length; i += 2) {
        const s = r[i];
        const last = minusOne(r[i + 1]);
        out += last === s ? `:${s}` : `:${s}-${last}`;
    }
    return out;
}
