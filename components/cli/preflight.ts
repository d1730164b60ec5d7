/**
 * `dm-switch preflight`: may a DM source switch to a target instance now, and why — changing nothing.
 *
 *   dm-switch preflight --dm <host:port> [--transport openapi|dmctl] [--dmctl <path>] --source <id>
 *     --flavor mysql|mariadb --target <host:port> --user <user> [--name <target name>]
 *     [--current <host:port>] [--task <task>]… [--catch-up-timeout-ms <ms>]
 *     [--tls-ca <file>] [--tls-cert <file>] [--tls-key <file>]
 *     [--mysql-tls] [--mysql-tls-ca <file>] [--mysql-tls-cert <file>] [--mysql-tls-key <file>]
 *     [--mysql-tls-servername <name>] [--json]
 *
 * --tls-* is TLS to dm-master; --mysql-tls* is TLS to the target and current MySQL/MariaDB servers,
 * always verified (chain and name); --mysql-tls alone verifies against the system CAs.
 *
 * The target user's password comes from DM_SWITCH_TARGET_PASSWORD (never a flag: process arguments
 * are visible to every user of the machine). Exit codes: 0 allowed, 3 not allowed, 2 bad input,
 * 2 also when it cannot reach DM or a MySQL/MariaDB server (the message says which and how to fix it).
 */
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { preflight, PreflightError, PreflightResult } from "../preflight";
import type { MysqlEndpoint } from "../mysql";
import type { DmEndpointInputs, Flavor } from "../model";
import { CommandIo, processIo } from "./main";

/** The environment variable holding the target user's password. */
export const PASSWORD_ENV = "DM_SWITCH_TARGET_PASSWORD";

/** Exit codes of `dm-switch preflight`. */
export const EXIT = { ok: 0, badInput: 2, notAllowed: 3, unreachable: 2 } as const;

/** One-line usage, printed with every bad-input error. */
export const PREFLIGHT_USAGE =
    "usage: dm-switch preflight --dm <host:port> [--transport openapi|dmctl] [--dmctl <path>] --source <id> --flavor mysql|mariadb " +
    "--target <host:port> --user <user> [--name <name>] [--current <host:port>] [--task <task>]... [--catch-up-timeout-ms <ms>] " +
    "[--tls-ca|--tls-cert|--tls-key <file>] [--mysql-tls] [--mysql-tls-ca|--mysql-tls-cert|--mysql-tls-key <file>] [--mysql-tls-servername <name>] " +
    `[--json]  (password: ${PASSWORD_ENV})`;

class BadInput extends Error {}

function hostPort(flag: string, value: string | undefined): { host: string; port: number } {
    const m = value === undefined ? null : /^(\[[0-9a-fA-F:]+\]|[^\s:/]+):(\d{1,5})$/.exec(value);
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) {
        throw new BadInput(
            `--${flag} must be host:port (for example 127.0.0.1:3306), got ${JSON.stringify(value ?? "")}`,
        );
    }
    return { host: m[1].replace(/^\[|\]$/g, ""), port };
}

function readPem(flag: string, file: string | undefined): string | undefined {
    if (file === undefined) {
        return undefined;
    }
    try {
        return fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new BadInput(
            `--${flag} ${file} cannot be read (${(e as NodeJS.ErrnoException).code}): give the path of a PEM file`,
        );
    }
}

/** TLS to the MySQL/MariaDB servers (target and current) from the --mysql-tls* flags; {} without them. */
function mysqlTlsOf(values: Record<string, string | boolean | string[] | undefined>): { tls?: MysqlEndpoint["tls"] } {
    const file = (flag: string) => readPem(flag, values[flag] as string | undefined);
    const tls = {
        ca: file("mysql-tls-ca"),
        cert: file("mysql-tls-cert"),
        key: file("mysql-tls-key"),
        servername: values["mysql-tls-servername"] as string | undefined,
    };
    if (!values["mysql-tls"] && Object.values(tls).every((v) => v === undefined)) {
        return {};
    }
    if ((tls.cert === undefined) !== (tls.key === undefined)) {
        throw new BadInput(
            "--mysql-tls-cert and --mysql-tls-key go together (the client certificate and its key): give both or neither",
        );
    }
    if (tls.servername !== undefined && !/^[A-Za-z0-9.-]+$/.test(tls.servername)) {
        throw new BadInput(
            `--mysql-tls-servername must be the host name the servers' certificates hold, got ${JSON.stringify(tls.servername)}`,
        );
    }
    return { tls: Object.fromEntries(Object.entries(tls).filter(([, v]) => v !== undefined)) };
}

/** The preflight's arguments from the command line and the environment; throws BadInput. */
function parse(argv: string[], env: NodeJS.ProcessEnv) {
    let values;
    try {
        ({ values } = parseArgs({
            args: argv,
            strict: true,
            options: {
                dm: { type: "string" },
                transport: { type: "string", default: "openapi" },
                dmctl: { type: "string" },
                source: { type: "string" },
                flavor: { type: "string" },
                target: { type: "string" },
                user: { type: "string" },
                name: { type: "string" },
                current: { type: "string" },
                task: { type: "string", multiple: true },
                "catch-up-timeout-ms": { type: "string" },
                "tls-ca": { type: "string" },
                "tls-cert": { type: "string" },
                "tls-key": { type: "string" },
                "mysql-tls": { type: "boolean", default: false },
                "mysql-tls-ca": { type: "string" },
                "mysql-tls-cert": { type: "string" },
                "mysql-tls-key": { type: "string" },
                "mysql-tls-servername": { type: "string" },
                json: { type: "boolean", default: false },
                password: { type: "string" },
            },
        }));
    } catch (e) {
        throw new BadInput((e as Error).message.split("\n")[0]);
    }
    if (values.password !== undefined) {
        throw new BadInput(
            `--password is not accepted (process arguments are visible to every user): set ${PASSWORD_ENV} instead`,
        );
    }
    hostPort("dm", values.dm);
    if (values.transport !== "openapi" && values.transport !== "dmctl") {
        throw new BadInput(`--transport must be openapi or dmctl, got ${JSON.stringify(values.transport)}`);
    }
    if (!values.source || !/^[A-Za-z0-9_.][A-Za-z0-9_.-]*$/.test(values.source)) {
        throw new BadInput(
            `--source must be a DM source id (letters, digits, '_', '.', '-', not starting with '-'), got ${JSON.stringify(values.source ?? "")}`,
        );
    }
    const flagLike = (values.task ?? []).find((t) => t === "" || t.startsWith("-"));
    if (flagLike !== undefined) {
        throw new BadInput(
            `--task ${JSON.stringify(flagLike)}: a DM task name is not empty and does not start with '-' (dmctl would read it as a flag)`,
        );
    }
    if (values.flavor !== "mysql" && values.flavor !== "mariadb") {
        throw new BadInput(`--flavor must be mysql or mariadb, got ${JSON.stringify(values.flavor ?? "")}`);
    }
    const target = hostPort("target", values.target);
    if (!values.user) {
        throw new BadInput(
            "--user must name a MySQL user that can read the target's GTID variables (usually the source's user)",
        );
    }
    const password = env[PASSWORD_ENV];
    if (password === undefined) {
        throw new BadInput(`${PASSWORD_ENV} is not set: export the password of --user ${values.user} in it`);
    }
    const raw = values["catch-up-timeout-ms"];
    const catchUpTimeoutMs = raw === undefined ? undefined : Number(raw);
    if (catchUpTimeoutMs !== undefined && (!Number.isInteger(catchUpTimeoutMs) || catchUpTimeoutMs < 0)) {
        throw new BadInput(
            `--catch-up-timeout-ms must be a whole number of milliseconds ≥ 0, got ${JSON.stringify(raw)}`,
        );
    }
    const tls = {
        ca: readPem("tls-ca", values["tls-ca"]),
        cert: readPem("tls-cert", values["tls-cert"]),
        key: readPem("tls-key", values["tls-key"]),
    };
    const dm: DmEndpointInputs = {
        address: values.dm!,
        transport: values.transport,
        dmctlPath: values.transport === "dmctl" ? (values.dmctl ?? "dmctl") : values.dmctl,
        tls: tls.ca || tls.cert || tls.key ? tls : undefined,
    };
    const mysqlTls = mysqlTlsOf(values);
    const current =
        values.current === undefined
            ? undefined
            : { ...hostPort("current", values.current), user: values.user, password, ...mysqlTls };
    return {
        json: values.json === true,
        args: {
            dm,
            sourceId: values.source,
            flavor: values.flavor as Flavor,
            target: { ...target, user: values.user, password, name: values.name ?? values.target!, ...mysqlTls },
            current,
            tasks: values.task,
            catchUpTimeoutMs,
        },
    };
}

function pad(rows: string[][]): string[] {
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    return rows.map((r) =>
        r
            .map((c, i) => c.padEnd(widths[i]))
            .join("  ")
            .trimEnd(),
    );
}

/** The report as people read it: verdict, the target's sets, one row per task, the reasons. */
export function formatReport(r: PreflightResult): string[] {
    const lines = [
        `DM source ${r.sourceId} → ${r.target} (${r.targetAddress}): ${r.ok ? "switch allowed" : "switch NOT allowed"}`,
        `target: ${r.facts.flavor}, server_id ${r.facts.serverId}`,
        `  gtid-P (purged):   ${r.facts.gtidPurged || "(empty)"}`,
        `  gtid-E (executed): ${r.facts.gtidExecuted || "(empty)"}`,
    ];
    if (r.catchUp) {
        lines.push(
            `  waited ${r.catchUp.waitedMs} ms (at most ${r.catchUp.timeoutMs}) for it to catch up: ${r.catchUp.caughtUp ? "caught up" : "still lagging"}`,
        );
    }
    if (!r.sourceExists) {
        lines.push(`DM has no source ${r.sourceId}.`);
    } else if (r.tasks.length === 0) {
        lines.push(`DM source ${r.sourceId} has no task.`);
    } else {
        const rows = [["task", "stage", "unit", "gtid-S (syncer)", "verdict"]];
        for (const t of r.tasks) {
            rows.push([t.task, t.stage || "-", t.unit || "-", t.syncerGtid || "(empty)", t.ok ? "ok" : "NOT OK"]);
        }
        lines.push(...pad(rows));
    }
    if (r.reasons.length > 0) {
        lines.push("why not:", ...r.reasons.map((x) => `- ${x}`));
    }
    if (r.steps && r.steps.length > 0) {
        lines.push("the switch would run:", ...r.steps.map((s) => `  ${s}`));
    }
    return lines;
}

/** Runs `dm-switch preflight` with `argv` (the arguments after "preflight"); resolves to the exit code. */
export async function preflightCommand(argv: string[], io: CommandIo = processIo()): Promise<number> {
    if (argv.includes("--help") || argv.includes("-h")) {
        io.out(`${PREFLIGHT_USAGE}\n`);
        return EXIT.ok;
    }
    let parsed: ReturnType<typeof parse>;
    try {
        parsed = parse(argv, io.env);
    } catch (e) {
        if (e instanceof BadInput) {
            io.err(`dm-switch preflight: ${e.message}\n${PREFLIGHT_USAGE}\n`);
            return EXIT.badInput;
        }
        throw e;
    }
    const { json, args } = parsed;
    const say = (code: number, kind: string, message: string, sides?: string[]): number => {
        if (json) {
            io.out(`${JSON.stringify({ ok: false, error: { kind, sides, message } }, null, 2)}\n`);
        } else {
            io.err(`dm-switch preflight: ${message}\n`);
        }
        return code;
    };
    let report: PreflightResult;
    try {
        report = await preflight(args);
    } catch (e) {
        if (e instanceof PreflightError) {
            const code = e.kind === "bad-input" ? EXIT.badInput : EXIT.unreachable;
            const prefix = e.kind === "bad-input" ? "bad input" : `cannot reach ${e.sides.join(" and ")}`;
            return say(code, e.kind, `${prefix}: ${e.message}`, e.sides);
        }
        if (e instanceof TypeError) {
            return say(EXIT.badInput, "bad-input", e.message);
        }
        throw e;
    }
    if (!report.sourceExists) {
        return say(
            EXIT.badInput,
            "bad-input",
            `DM at ${args.dm.address} has no source ${args.sourceId}: check --source (dmctl operate-source show).`,
        );
    }
    io.out(json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report).join("\n")}\n`);
    return report.ok ? EXIT.ok : EXIT.notAllowed;
}
