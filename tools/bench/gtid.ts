/**
 * `npm run bench:gtid`: how fast dm-switch parses GTID sets and checks containment, next to go-mysql
 * (what DM runs: `ParseMysqlGTIDSet`, `ParseMariadbGTIDSet`, `Contain`) on the same input files in the same
 * run, plus a cross-check of both libraries' answers on tricky cases. Prints figures; asserts nothing.
 *
 * Inputs, generated into a temporary folder: a MySQL `gtid_executed` of 5,000 UUIDs × 200 intervals (servers'
 * `,\n` separators, 7-digit sequence numbers) with a gtid-S a few transactions behind it; one UUID with
 * 1,000,000 intervals; a MariaDB `gtid_binlog_state` of 10,000 domains × 3 servers with a one-per-domain
 * gtid-S. Each round parses the superset and the subset, then checks containment (`contains(E, S)` is
 * true, so every interval is visited). `BENCH_ROUNDS` (default 7) rounds after one warm-up, min and median.
 * MySQL sets in the servers' form go through the WebAssembly scanner (components/gtid/mysqlScan.ts); the
 * exact parser's own figures are printed beside them.
 * Go: `GO` or `go` on PATH (or /usr/local/go/bin/go) builds tools/bench/gtid-go; without it, ours only.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { checkSwitch, contains, Flavor, GtidParseError, parseGtidSet } from "../../components/gtid";
import { parseMysqlExact } from "../../components/gtid/mysql";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const GO_DIR = path.join(__dirname, "gtid-go");

interface Case {
    name: string;
    flavor: Flavor;
    /** gtid-E (the superset) and gtid-S (the subset) files. */
    superFile: string;
    subFile: string;
    /** gtid-P for the checkSwitch figure. */
    purged: string;
}

interface Figures {
    parseSuper: number[];
    parseSub: number[];
    contain: number[];
    contains: boolean;
}

/** The k-th of a family of distinct, valid server UUIDs. */
function uuid(k: number): string {
    const h = (0x3e11fa47 + k * 2654435761).toString(16).slice(-8).padStart(8, "a");
    return `${h}-71ca-11e1-9e33-${k.toString(16).padStart(12, "0")}`;
}

/**
 * A MySQL set: `uuids` UUIDs × `intervals` intervals; `behind` drops the last transactions of each UUID,
 * `late` the first of every interval (so that no interval is written as in the set without it).
 */
function mysqlSet(uuids: number, intervals: number, gap: number, behind: number, late = 0): string {
    const parts: string[] = [];
    for (let k = 0; k < uuids; k++) {
        let s = uuid(k);
        for (let j = 0; j < intervals; j++) {
            const start = 1_000_000 + j * gap + ((k * 7) % 13);
            const end =
                start + Math.floor(gap / 2) + ((j * 37) % Math.floor(gap / 4 + 1)) - (j === intervals - 1 ? behind : 0);
            s += `:${start + late}-${end}`;
        }
        parts.push(s);
    }
    return parts.join(",\n");
}

/** A MariaDB state of `domains` × `servers` entries, or a one-per-domain position `behind` the state. */
function mariadbSet(domains: number, servers: number, behind: number | undefined): string {
    const parts: string[] = [];
    for (let d = 0; d < domains; d++) {
        const top = 10_000_000 + d * 997;
        if (behind !== undefined) {
            parts.push(`${d}-${servers}-${top - behind}`);
            continue;
        }
        for (let s = 1; s <= servers; s++) {
            parts.push(`${d}-${s}-${top - (servers - s) * 1000}`);
        }
    }
    return parts.join(",");
}

function writeCases(dir: string): Case[] {
    const write = (name: string, text: string) => {
        const file = path.join(dir, name);
        fs.writeFileSync(file, text);
        return file;
    };
    const u = uuid(0);
    return [
        {
            name: "mysql 5,000 UUIDs × 200 intervals",
            flavor: "mysql",
            superFile: write("mysql-5000x200-executed.txt", mysqlSet(5000, 200, 1000, 0)),
            subFile: write("mysql-5000x200-syncer.txt", mysqlSet(5000, 200, 1000, 5)),
            purged: `${u}:1000000-1000100`,
        },
        {
            name: "mysql 5,000 UUIDs × 200 intervals, no interval of S written as in E",
            flavor: "mysql",
            superFile: path.join(dir, "mysql-5000x200-executed.txt"),
            subFile: write("mysql-5000x200-syncer-late.txt", mysqlSet(5000, 200, 1000, 0, 1)),
            purged: `${u}:1000001-1000100`,
        },
        {
            name: "mysql 1 UUID × 1,000,000 intervals",
            flavor: "mysql",
            // A gap of 5: intervals apart, as servers print them (with 4, some would be adjacent).
            superFile: write("mysql-1x1M-executed.txt", mysqlSet(1, 1_000_000, 5, 0)),
            subFile: write("mysql-1x1M-syncer.txt", mysqlSet(1, 1_000_000, 5, 1)),
            purged: `${u}:1000000-1000002`,
        },
        {
            name: "mariadb 10,000 domains × 3 servers",
            flavor: "mariadb",
            superFile: write("mariadb-10000x3-state.txt", mariadbSet(10_000, 3, undefined)),
            subFile: write("mariadb-10000-position.txt", mariadbSet(10_000, 3, 5)),
            purged: "0-1-100",
        },
    ];
}

function ms(ns: number): number {
    return ns / 1e6;
}

function stats(xs: number[]): string {
    const s = [...xs].sort((a, b) => a - b);
    return `${s[0].toFixed(1)} / ${s[Math.floor(s.length / 2)].toFixed(1)}`;
}

/** "dm-switch 4.20× faster" (or slower) from go-mysql's time and ours. */
function faster(go: number, ours: number): string {
    return go >= ours ? `dm-switch ${(go / ours).toFixed(2)}× faster` : `dm-switch ${(ours / go).toFixed(2)}× slower`;
}

function median(xs: number[]): number {
    return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

function timeOurs(c: Case): Figures & { checkSwitch: number[] } {
    const superText = fs.readFileSync(c.superFile, "utf8");
    const subText = fs.readFileSync(c.subFile, "utf8");
    const f = {
        parseSuper: [] as number[],
        parseSub: [] as number[],
        contain: [] as number[],
        contains: false,
        checkSwitch: [] as number[],
    };
    for (let r = 0; r <= ROUNDS; r++) {
        const t0 = performance.now();
        const a = parseGtidSet(c.flavor, superText);
        const t1 = performance.now();
        const b = parseGtidSet(c.flavor, subText);
        const t2 = performance.now();
        f.contains = contains(a, b);
        const t3 = performance.now();
        checkSwitch({ flavor: c.flavor, syncer: subText, purged: c.purged, executed: superText });
        const t4 = performance.now();
        if (r > 0) {
            f.parseSuper.push(t1 - t0);
            f.parseSub.push(t2 - t1);
            f.contain.push(t3 - t2);
            f.checkSwitch.push(t4 - t3);
        }
    }
    return f;
}

/**
 * The exact parser alone (mysql.ts, without the WebAssembly scanner): what texts outside the servers' form
 * get, and what every MySQL set got before the scanner. Medians of parse E and parse S.
 */
function timeExact(c: Case): { parseSuper: number; parseSub: number } {
    const texts = [fs.readFileSync(c.superFile, "utf8"), fs.readFileSync(c.subFile, "utf8")];
    const times: number[][] = [[], []];
    for (let r = 0; r <= ROUNDS; r++) {
        texts.forEach((t, k) => {
            const t0 = performance.now();
            parseMysqlExact(t);
            if (r > 0) {
                times[k].push(performance.now() - t0);
            }
        });
    }
    return { parseSuper: median(times[0]), parseSub: median(times[1]) };
}

/** The first parse of the superset in fresh processes (min–max ms of 3), with the scanner and the exact parser alone. */
function timeCold(c: Case): string {
    const once = (which: string) => {
        const times: number[] = [];
        for (let r = 0; r < 3; r++) {
            const out = spawnSync(
                process.execPath,
                ["--import", "tsx", path.join(__dirname, "gtidCold.ts"), which, c.superFile],
                {
                    encoding: "utf8",
                },
            );
            if (out.status !== 0) {
                return `failed: ${out.stderr.trim()}`;
            }
            times.push(Number(out.stdout.trim()));
        }
        return `${Math.min(...times).toFixed(1)}–${Math.max(...times).toFixed(1)}`;
    };
    return `scanner ${once("scanner")} ms, exact parser ${once("exact")} ms`;
}

/** Builds the Go program; returns its path, or why it could not be built. */
function buildGo(outDir: string): { bin: string } | { why: string } {
    const candidates = [process.env.GO, "go", "/usr/local/go/bin/go"].filter((x): x is string => !!x);
    for (const go of candidates) {
        const version = spawnSync(go, ["version"], { encoding: "utf8" });
        if (version.error || version.status !== 0) {
            continue;
        }
        const bin = path.join(outDir, "gtid-go");
        const started = Date.now();
        const r = spawnSync(go, ["build", "-o", bin, "."], { cwd: GO_DIR, encoding: "utf8" });
        if (r.status !== 0) {
            return {
                why: `${go} build failed in ${GO_DIR}: ${(r.stderr || r.error?.message || "").trim().split("\n").slice(-3).join(" | ")}`,
            };
        }
        console.log(
            `go-mysql: built ${GO_DIR} with ${version.stdout.trim()} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        );
        return { bin };
    }
    return { why: `no Go toolchain found (tried ${candidates.join(", ")}); set GO to a go binary` };
}

function timeGo(bin: string, c: Case): Figures | string {
    const r = spawnSync(bin, ["bench", c.flavor, c.superFile, c.subFile, String(ROUNDS + 1)], {
        encoding: "utf8",
        maxBuffer: 1 << 24,
    });
    if (r.status !== 0) {
        return `gtid-go failed: ${(r.stderr || r.error?.message || "").trim()}`;
    }
    const o = JSON.parse(r.stdout) as {
        parseSuperNs: number[];
        parseSubNs: number[];
        containNs: number[];
        contains: boolean;
    };
    return {
        parseSuper: o.parseSuperNs.slice(1).map(ms),
        parseSub: o.parseSubNs.slice(1).map(ms),
        contain: o.containNs.slice(1).map(ms),
        contains: o.contains,
    };
}

/** Tricky cases where the two libraries' answers are compared (`a ⊇ b`). */
function crossCases(): { flavor: Flavor; a: string; b: string; note: string }[] {
    const A = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    const B = "4f22ab58-82db-22f2-af44-d91bb0530673";
    return [
        { flavor: "mysql", a: `${A}:1-5:7-10`, b: `${A}:5-7`, note: "a gap inside the asked range" },
        { flavor: "mysql", a: `${A}:1-5:6-10`, b: `${A}:3-8`, note: "adjacent intervals" },
        { flavor: "mysql", a: `${A}:20-30:1-5`, b: `${A}:3:25`, note: "unsorted intervals" },
        { flavor: "mysql", a: `${A.toUpperCase()}:1-10`, b: `${A}:2`, note: "UUID case" },
        { flavor: "mysql", a: `${A}:1-3,${A}:4-6`, b: `${A}:2-5`, note: "a repeated UUID" },
        { flavor: "mysql", a: `${A}:1-10,\n${B}:1-3`, b: `${B}:2,${A}:9`, note: "servers' ',\\n' and multi-UUID" },
        { flavor: "mysql", a: `${A}:1-10,${B}:1-3`, b: `${B}:4`, note: "one UUID short" },
        { flavor: "mysql", a: `${A}:1-9007199254740993`, b: `${A}:9007199254740993`, note: "2^53 + 1 at the end" },
        { flavor: "mysql", a: `${A}:1-9007199254740993`, b: `${A}:9007199254740994`, note: "2^53 + 2 beyond the end" },
        {
            flavor: "mysql",
            a: `${A}:9223372036854775806`,
            b: `${A}:9223372036854775806`,
            note: "2^63 - 2, MySQL's largest",
        },
        { flavor: "mysql", a: `${A}:9223372036854775807`, b: "", note: "2^63 - 1, beyond MySQL's range" },
        { flavor: "mysql", a: "", b: "", note: "empty ⊇ empty" },
        { flavor: "mysql", a: "", b: `${A}:1`, note: "empty ⊇ one" },
        { flavor: "mysql", a: `${A}:1-5`, b: `${A}:0`, note: "DM's uuid:0 (DM maps it to empty before go-mysql)" },
        { flavor: "mysql", a: `${A}:5-3`, b: "", note: "an interval ending before it starts" },
        { flavor: "mysql", a: A, b: "", note: "a UUID without interval" },
        { flavor: "mysql", a: `${A}:1 - 5`, b: `${A}:2`, note: "spaces around '-' (MySQL accepts them)" },
        { flavor: "mysql", a: `${A}:1,,${B}:2`, b: `${A}:1`, note: "an empty element (MySQL accepts it)" },
        { flavor: "mysql", a: `${A}:1-5:tag:1-3`, b: `${A}:1`, note: "a tagged GTID (tiflow#12629)" },
        { flavor: "mysql", a: `${A}:1-5`, b: `${A}:tag:1`, note: "the tagged twin of a member" },
        { flavor: "mariadb", a: "0-1-50", b: "0-1-42", note: "same server, later seq" },
        { flavor: "mariadb", a: "0-2-50", b: "0-1-42", note: "after a failover (per domain vs per server)" },
        { flavor: "mariadb", a: "0-2-60", b: "0-1-42,0-2-50", note: "a Gtid_list naming an old server" },
        { flavor: "mariadb", a: "0-1-40,0-2-60", b: "0-1-42", note: "diverged: checkSwitch refuses this one" },
        { flavor: "mariadb", a: "1-1-100", b: "0-1-1", note: "a missing domain" },
    ];
}

function ours(flavor: Flavor, a: string, b: string): string {
    try {
        return String(contains(parseGtidSet(flavor, a), parseGtidSet(flavor, b)));
    } catch (e) {
        if (e instanceof GtidParseError) {
            return "parse error";
        }
        throw e;
    }
}

function crossCheck(bin: string | undefined): void {
    const cases = crossCases();
    let theirs: string[] = cases.map(() => "(go-mysql not built)");
    if (bin !== undefined) {
        const r = spawnSync(bin, ["cases"], { input: JSON.stringify(cases), encoding: "utf8" });
        if (r.status !== 0) {
            console.log(`cross-check: gtid-go failed: ${r.stderr.trim()}`);
        } else {
            theirs = (JSON.parse(r.stdout) as { contains?: boolean; error?: string }[]).map((x) =>
                x.error !== undefined ? "parse error" : String(x.contains),
            );
        }
    }
    console.log("\ncross-check, a ⊇ b: dm-switch vs go-mysql");
    cases.forEach((c, i) => {
        const mine = ours(c.flavor, c.a, c.b);
        const mark = mine === theirs[i] ? "same" : "DIFFERS";
        console.log(
            `  ${mark.padEnd(7)} ${c.flavor.padEnd(7)} ours ${mine.padEnd(11)} go-mysql ${theirs[i].padEnd(11)} ${c.note}`,
        );
    });
}

function main(): void {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-gtid-"));
    try {
        console.log(
            `bench:gtid — ${ROUNDS} rounds after one warm-up; figures are min / median ms; load average ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} CPUs`,
        );
        console.log(`node ${process.version}`);
        const cases = writeCases(dir);
        const built = buildGo(dir);
        if ("why" in built) {
            console.log(`go-mysql: not measured: ${built.why}`);
        }
        for (const c of cases) {
            const mb = (fs.statSync(c.superFile).size + fs.statSync(c.subFile).size) / 1e6;
            const o = timeOurs(c);
            console.log(`\n${c.name} (superset + subset ${mb.toFixed(1)} MB)`);
            console.log(
                `  dm-switch  parse E ${stats(o.parseSuper)}  parse S ${stats(o.parseSub)}  contains ${stats(o.contain)}  (= ${o.contains})`,
            );
            console.log(
                `             checkSwitch on the text (the rule as providers and policies run it): ${stats(o.checkSwitch)}`,
            );
            if (c.flavor === "mysql") {
                const x = timeExact(c);
                console.log(
                    `             exact parser alone (no WebAssembly scanner), medians: parse E ${x.parseSuper.toFixed(1)}  parse S ${x.parseSub.toFixed(1)}`,
                );
                console.log(`             first parse of E in a fresh process (as the CLI makes it): ${timeCold(c)}`);
            }
            const ourTotal = median(o.parseSuper) + median(o.parseSub) + median(o.contain);
            if ("bin" in built) {
                const g = timeGo(built.bin, c);
                if (typeof g === "string") {
                    console.log(`  go-mysql   ${g}`);
                    continue;
                }
                console.log(
                    `  go-mysql   parse E ${stats(g.parseSuper)}  parse S ${stats(g.parseSub)}  Contain ${stats(g.contain)}  (= ${g.contains})`,
                );
                const goTotal = median(g.parseSuper) + median(g.parseSub) + median(g.contain);
                console.log(
                    `  parse + check, medians: dm-switch ${ourTotal.toFixed(1)} ms, go-mysql ${goTotal.toFixed(1)} ms: ${faster(goTotal, ourTotal)}`,
                );
                const rule = median(o.checkSwitch);
                console.log(
                    `  the rule from the texts, medians: dm-switch checkSwitch ${rule.toFixed(1)} ms (three texts, both relations), ` +
                        `go-mysql parse E + parse S + Contain ${goTotal.toFixed(1)} ms: ${faster(goTotal, rule)}`,
                );
            } else {
                console.log(`  parse + check, medians: dm-switch ${ourTotal.toFixed(1)} ms`);
            }
        }
        crossCheck("bin" in built ? built.bin : undefined);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

main();
