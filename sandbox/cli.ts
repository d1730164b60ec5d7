/**
 * `npm run sandbox:up | sandbox:status | sandbox:down [-- options]`: a long-lived sandbox on fixed,
 * documented ports (DEFAULT_PORTS: dm-master 18261, VIP 13306, primary 13307, replica 13308, downstream
 * 13309, HAProxy admin 13380, dm-worker 18262, dm-master peer 18291) in ~/.cache/dm-switch/sandbox,
 * described by `sandbox.json` there (0600) so a stack file, a benchmark or the next command finds it.
 *
 * Options: --dir DIR (another state folder), --free-ports (free ports instead of the fixed ones),
 * --tasks N (default 2), --relay, --json (status as JSON), --keep (down keeps the folder and its logs),
 * --flavor mariadb|mysql (the upstream servers; default mariadb; mysql needs `npm run setup`'s MySQL),
 * --downstream mariadb|tidb (DM's target; default mariadb; tidb: tidb-server from the toolchain),
 * --masters N --workers N (a dm-master cluster of N members and N dm-workers; default 1 and 1; members
 * beyond the first on free ports, listed by `status`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { cacheDir } from "../tools/env";
import { descriptionPath, openSandbox, readDescription, SandboxDescription } from "./description";
import { clusterWorkers, dmGet, masterReady } from "./dm";
import { memberCountProblem } from "./dmCluster";
import { DEFAULT_PORTS, startSandbox } from "./index";
import { alive, killHard, portFree, portOpen, processesIn } from "./proc";
import { query } from "./sql";

interface Args {
    command: string;
    dir: string;
    freePorts: boolean;
    tasks?: number;
    relay: boolean;
    flavor: "mariadb" | "mysql";
    downstream: "mariadb" | "tidb";
    masters?: number;
    workers?: number;
    json: boolean;
    keep: boolean;
}

const USAGE =
    "usage: sandbox/cli.ts up|status|down [--dir DIR] [--free-ports] [--tasks N] [--relay] [--flavor mariadb|mysql] [--downstream mariadb|tidb] [--masters N] [--workers N] [--json] [--keep]";

function parseArgs(argv: string[]): Args {
    const a: Args = {
        command: argv[0] ?? "",
        dir: path.join(cacheDir(), "sandbox"),
        freePorts: false,
        relay: false,
        flavor: "mariadb",
        downstream: "mariadb",
        json: false,
        keep: false,
    };
    for (let i = 1; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--dir") {
            a.dir = path.resolve(argv[++i] ?? "");
        } else if (arg === "--tasks") {
            a.tasks = Number(argv[++i]);
            if (!Number.isInteger(a.tasks) || a.tasks < 0) {
                throw new Error(`--tasks ${argv[i]} must be a whole number ≥ 0. ${USAGE}`);
            }
        } else if (arg === "--flavor") {
            const v = argv[++i];
            if (v !== "mariadb" && v !== "mysql") {
                throw new Error(`--flavor ${v ?? "(missing)"} must be mariadb or mysql. ${USAGE}`);
            }
            a.flavor = v;
        } else if (arg === "--masters" || arg === "--workers") {
            const n = Number(argv[++i]);
            const problem = memberCountProblem(arg, n, argv[i] ?? "(missing)");
            if (problem) {
                throw new Error(`${problem} ${USAGE}`);
            }
            a[arg === "--masters" ? "masters" : "workers"] = n;
        } else if (arg === "--downstream") {
            const v = argv[++i];
            if (v !== "mariadb" && v !== "tidb") {
                throw new Error(`--downstream ${v ?? "(missing)"} must be mariadb or tidb. ${USAGE}`);
            }
            a.downstream = v;
        } else if (arg === "--free-ports" || arg === "--relay" || arg === "--json" || arg === "--keep") {
            const key = (
                { "--free-ports": "freePorts", "--relay": "relay", "--json": "json", "--keep": "keep" } as const
            )[arg];
            a[key] = true;
        } else {
            throw new Error(`unknown argument ${arg}. ${USAGE}`);
        }
    }
    if (!["up", "status", "down"].includes(a.command)) {
        throw new Error(`unknown command "${a.command}". ${USAGE}`);
    }
    return a;
}

/** One line per part: is it up, and what it says. */
interface PartStatus {
    part: string;
    up: boolean;
    detail: string;
}

async function status(d: SandboxDescription): Promise<PartStatus[]> {
    const out: PartStatus[] = [];
    for (const i of d.instances) {
        const kind = i.name === "downstream" ? "downstream" : d.source.flavor === "mysql" ? "mysql" : "mariadb";
        try {
            // The downstream (MariaDB or TiDB) is named by its version; the upstream servers by their GTID position.
            const sql =
                kind === "downstream"
                    ? "SELECT VERSION() AS v"
                    : `SELECT @@server_id AS id, ${kind === "mysql" ? "@@gtid_executed" : "@@gtid_binlog_pos"} AS g`;
            const r = (await query({ host: "127.0.0.1", port: i.port, ...d.admin }, sql))[0];
            out.push({
                // The downstream is named by its engine, read from its version: "mariadb downstream", "tidb downstream".
                part:
                    kind === "downstream"
                        ? `${/TiDB/.test(String(r.v)) ? "tidb" : "mariadb"} downstream`
                        : `${kind} ${i.name}`,
                up: true,
                detail:
                    kind === "downstream"
                        ? `127.0.0.1:${i.port} ${String(r.v)}`
                        : `127.0.0.1:${i.port} server_id ${String(r.id)} ${kind === "mysql" ? "gtid_executed" : "gtid_binlog_pos"} ${String(r.g).replace(/\s+/g, "") || "(empty)"}`,
            });
        } catch (e) {
            out.push({
                part: kind === "downstream" ? "downstream" : `${kind} ${i.name}`,
                up: false,
                detail: `127.0.0.1:${i.port}: ${(e as { code?: string }).code ?? "no answer"}`,
            });
        }
    }
    const sb = await openSandbox(d.dir);
    const target = await sb.vipTarget().then(
        (t) => `points at ${t ?? "no server"}`,
        (e: Error) => `runtime API: ${e.message}`,
    );
    out.push({
        part: "haproxy",
        up: alive(d.pids.haproxy) && (await portOpen(d.ports.vip)),
        detail: `VIP 127.0.0.1:${d.ports.vip} ${target}; admin ${sb.vip.haproxySocket}, ${sb.vip.haproxyAdminAddr}`,
    });
    const masterUp = await masterReady(d.dm.masterAddr).catch(() => false);
    out.push({ part: "dm-master", up: masterUp, detail: `${d.dm.masterAddr} (OpenAPI ${d.dm.openapiUrl})` });
    const workers = masterUp ? await clusterWorkers(d.dm.masterAddr).catch(() => []) : [];
    const w = workers.find((x) => x.name === d.dm.workerName);
    out.push({
        part: "dm-worker",
        up: alive(d.pids.dmWorker) && w !== undefined && w.bound_stage !== "offline",
        detail: `127.0.0.1:${d.ports.dmWorker} ${w ? `${w.bound_stage} ${w.bound_source_name}` : "not registered"}`,
    });
    // A cluster (--masters, --workers): the other members, as dm-master lists them.
    const masters = masterUp
        ? await dmGet(d.dm.masterAddr, "/api/v1/cluster/masters").catch(() => undefined)
        : undefined;
    type Member = { name?: string; alive?: boolean; leader?: boolean; addr?: string };
    for (const m of ((masters?.body as { data?: Member[] })?.data ?? []).filter((x) => x.name !== "master1")) {
        out.push({
            part: `dm-master ${m.name}`,
            up: m.alive === true,
            detail: `peer ${m.addr ?? "?"}${m.leader ? " (leader)" : ""}`,
        });
    }
    for (const x of workers.filter((x) => x.name !== d.dm.workerName)) {
        out.push({
            part: `dm-worker ${x.name}`,
            up: x.bound_stage !== "offline",
            detail: `${x.addr} ${x.bound_stage} ${x.bound_source_name}`,
        });
    }
    const src = masterUp
        ? await dmGet(d.dm.masterAddr, `/api/v1/sources/${encodeURIComponent(d.source.id)}?with_status=true`).catch(
              () => undefined,
          )
        : undefined;
    // Only fields without secrets are read from the answer (GET never returns the password in clear anyway).
    const s = (src?.status === 200 ? src.body : undefined) as
        | {
              host?: string;
              port?: number;
              status_list?: { worker_name?: string; relay_status?: { stage?: string } | null }[];
          }
        | undefined;
    const bound = s?.status_list?.[0];
    out.push({
        part: `source ${d.source.id}`,
        up: bound?.worker_name === d.dm.workerName,
        detail: s
            ? `from ${s.host}:${s.port} on ${bound?.worker_name || "no worker"}, relay ${bound?.relay_status?.stage ?? "off"}`
            : "not created",
    });
    for (const t of d.tasks) {
        const r = masterUp
            ? await dmGet(d.dm.masterAddr, `/api/v1/tasks/${encodeURIComponent(t.name)}/status`).catch(() => undefined)
            : undefined;
        const subs = ((r?.body as { data?: { stage?: string; error_msg?: string }[] })?.data ?? []).map(
            (s) =>
                `${s.stage || "Offline"}${s.error_msg ? ` (${s.error_msg.replace(/\s+/g, " ").slice(0, 160)})` : ""}`,
        );
        out.push({
            part: `task ${t.name}`,
            up: subs.length > 0 && subs.every((s) => s === "Running"),
            detail: `${t.schema}: ${subs.join(", ") || (r?.status === 404 ? "not started" : "unknown")}`,
        });
    }
    return out;
}

function print(parts: PartStatus[]): void {
    const width = Math.max(...parts.map((p) => p.part.length));
    for (const p of parts) {
        console.log(`${p.up ? "up  " : "DOWN"}  ${p.part.padEnd(width)}  ${p.detail}`);
    }
}

async function up(a: Args): Promise<number> {
    const existing = readDescription(a.dir);
    if (existing) {
        const parts = await status(existing);
        if (parts.every((p) => p.up)) {
            console.log(`sandbox: already up in ${a.dir}`);
            print(parts);
            return 0;
        }
        if (processesIn(a.dir).length > 0) {
            print(parts);
            throw new Error(
                `the sandbox in ${a.dir} is partly up; run npm run sandbox:down (add -- --dir ${a.dir} for this folder), then sandbox:up.`,
            );
        }
    }
    if (fs.existsSync(a.dir)) {
        const entries = fs.readdirSync(a.dir);
        const ours = new Set(["sandbox.json", "primary", "replica", "downstream", "haproxy", "dm-master", "dm-worker"]);
        if (entries.some((e) => !ours.has(e) && !/^(sandbox_task_\d+\.yaml|dm-(master|worker)-\d+)$/.test(e))) {
            throw new Error(`${a.dir} holds files that are not a sandbox's; choose another --dir or empty it.`);
        }
        fs.rmSync(a.dir, { recursive: true, force: true });
    }
    if (!a.freePorts) {
        for (const [name, port] of Object.entries(DEFAULT_PORTS)) {
            if (!(await portFree(port))) {
                throw new Error(
                    `port ${port} (${name}) is in use; stop what listens there, or run sandbox:up -- --free-ports.`,
                );
            }
        }
    }
    // Interrupted half-way: remove what was started (nothing is recorded yet).
    const interrupted = async () => {
        await Promise.all(processesIn(a.dir).map(killHard));
        process.exit(130);
    };
    process.once("SIGINT", interrupted).once("SIGTERM", interrupted);
    const sb = await startSandbox({
        dir: a.dir,
        persistent: true,
        ports: a.freePorts ? undefined : DEFAULT_PORTS,
        tasks: a.tasks,
        relay: a.relay,
        flavor: a.flavor,
        downstream: a.downstream,
        masters: a.masters,
        workers: a.workers,
        log: (l) => console.log(l),
    });
    console.log(`sandbox: up in ${(sb.startupMs / 1000).toFixed(1)} s; described in ${descriptionPath(a.dir)}`);
    console.log(
        `  VIP ${sb.vip.host}:${sb.vip.port} → primary 127.0.0.1:${sb.primary.port} (replica 127.0.0.1:${sb.replica.port}, disabled)`,
    );
    console.log(
        `  downstream 127.0.0.1:${sb.downstream.port}; dm-master ${sb.dm.address}; source ${sb.source.id}; tasks ${sb.tasks.map((t) => t.name).join(", ")}`,
    );
    return 0;
}

async function down(a: Args): Promise<number> {
    const t0 = performance.now();
    const d = readDescription(a.dir);
    if (d) {
        const sb = await openSandbox(a.dir);
        await sb.stop();
    }
    // With --masters/--workers, the members beyond the first (not in sandbox.json) end here: their data goes with the folder.
    const strays = processesIn(a.dir);
    await Promise.all(strays.map(killHard));
    if (!d && strays.length === 0) {
        console.log(`sandbox: nothing runs from ${a.dir}`);
    }
    if (d && !a.keep) {
        const busy = [];
        for (const port of Object.values(d.ports)) {
            if (!(await portFree(port))) {
                busy.push(port);
            }
        }
        if (busy.length > 0) {
            throw new Error(
                `ports ${busy.join(", ")} are still in use after sandbox:down; find the process with ss -ltnp and stop it.`,
            );
        }
    }
    if (!a.keep && fs.existsSync(a.dir)) {
        fs.rmSync(a.dir, { recursive: true, force: true });
    }
    console.log(
        `sandbox: down in ${((performance.now() - t0) / 1000).toFixed(1)} s${strays.length ? ` (${strays.length} stray process(es) killed)` : ""}${a.keep ? `; kept ${a.dir}` : ""}`,
    );
    return 0;
}

async function main(argv: string[]): Promise<number> {
    const a = parseArgs(argv);
    if (a.command === "up") {
        return up(a);
    }
    if (a.command === "down") {
        return down(a);
    }
    const d = readDescription(a.dir);
    if (!d) {
        console.log(
            a.json
                ? JSON.stringify({ dir: a.dir, up: false, parts: [] })
                : `sandbox: none in ${a.dir} (start one with npm run sandbox:up)`,
        );
        return 1;
    }
    const parts = await status(d);
    const allUp = parts.every((p) => p.up);
    if (a.json) {
        console.log(JSON.stringify({ dir: a.dir, up: allUp, parts }, null, 2));
    } else {
        print(parts);
    }
    return allUp ? 0 : 1;
}

main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: Error) => {
        console.error(`sandbox: ${e.message}`);
        process.exit(1);
    },
);
