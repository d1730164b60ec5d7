/** Per dm-master address: the tail of its queue of status queries. */
const statusQueues = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` after every status query already asked of `address` has finished. Seen here: 10 task-status
 * queries at once took 1 s, one after another 5–10 ms each. The cause found since: dm-master sends each
 * request to a dm-worker through a token bucket (`rpc-rate-limit` 10 a second after a burst of
 * `rpc-rate-burst` 40, dm/master/agent_pool.go), so once the bucket is empty every worker request waits
 * ~100 ms however it is asked: what costs is the number of worker requests (./memo.ts).
 */
function oneAtATime<T>(address: string, fn: () => Promise<T>): Promise<T> {
    const run = (statusQueues.get(address) ?? Promise.resolve()).then(fn, fn);
    statusQueues.set(
        address,
        run.catch(() => undefined),
    );
    return run;
}

/**
 * The OpenAPI v1 transport (DM ≥ 6.0, dm-master `openapi = true`). Requests go over one keep-alive
 * agent so that polling costs a few milliseconds; with TLS the agent carries the CA and client cert.
 *
 * What the API cannot do, and why stop/start-task go through dmctl here:
 * - `DELETE /api/v1/tasks/{t}` always drops the downstream checkpoint and metadata in the DM this
 *   project is built against (dm/master/openapi_controller.go `deleteTask` → `removeMetaData`).
 *   tiflow#12757 (July 2026) adds `?keep_meta=true`, but older masters ignore unknown query
 *   parameters and would drop the checkpoint silently, so dm-switch never sends it.
 * - `DELETE /api/v1/sources/{s}?force=true` removes the source's subtasks without touching meta, but it
 *   stops the source too and rebuilding the task needs its full config: `GET /api/v1/tasks/{t}` returns
 *   the downstream password in clear and a lossy conversion of the task.
 * So stopTask, startTask and getTaskConfig run dmctl (`stop-task`, `start-task <file>`, `get-config
 * task`) — dmctlPath must be set for them. Everything on the VIP path (status, pause, resume) is HTTP,
 * but the status of every task of a source at once: dm-master's gRPC QueryStatus (./grpcStatus.ts).
 * Likewise getSourceFile and createSource from a base file (`get-config source`, `operate-source create
 * <file>`): `GET /sources/{s}` answers only some of a source's fields and `POST /sources` sets the
 * others (case-sensitive, filters, checker, from.session, …) to DM's defaults.
 *
 * Other findings against a real dm-master: `POST /tasks/{t}/stop` without `source_name_list` answers
 * 200 for a task that does not exist, so pause/resume always name the sources; `GET …/status` ignores
 * its `source_name_list` filter; `GET /sources/{s}` answers 404 with an empty body for an unknown source;
 * `DELETE /sources/{s}` (no force) refuses while tasks exist, like `operate-source stop`;
 * `POST /sources` echoes the password, so no response body ever reaches an error text.
 */
import * as http from "node:http";
import * as https from "node:https";
import { ApiSubtask, line, subtaskFromApi } from "./apiStatus";
import {
    dmctlCreateSource,
    dmctlGetSourceFile,
    dmctlGetTaskConfig,
    dmctlStartRelay,
    dmctlStartTask,
    dmctlStopTask,
} from "./dmctlClient";
import { dmMembers } from "./address";
import { grpcSourceStatus } from "./grpcStatus";
import {
    codeOf,
    configOf,
    DmClient,
    DmEndpoint,
    DmError,
    oneLine,
    parseStage,
    SourceConfigInfo,
    SourceInfo,
    SubtaskStatus,
} from "./types";

interface ApiSource {
    source_name?: string;
    host?: string;
    port?: number;
    user?: string;
    flavor?: string;
    enable_gtid?: boolean;
    relay_config?: { enable_relay?: boolean } | null;
    task_name_list?: string[] | null;
    status_list?: {
        worker_name?: string;
        error_msg?: string;
        relay_status?: {
            stage?: string;
            relay_binlog_gtid?: string;
            relay_catch_up_master?: boolean;
            relay_dir?: string;
        } | null;
    }[];
}

/** DM's answer to POST /sources with relay on after it has created the source and started relay (see createSource). */
const RELAY_STARTED_TWICE = 46030;

export { subtaskFromApi } from "./apiStatus";

/** `GET /tasks` (no status): each task's name and its sources. Its target config holds the downstream password: read nothing else. */
interface ApiTask {
    name?: string;
    source_config?: { source_conf?: { source_name?: string }[] | null } | null;
}

/** A source's configuration; `taskNames` from `task_name_list` (present with `with_status=true`) unless given. */
export function sourceConfigFromApi(s: ApiSource, taskNames?: string[]): SourceConfigInfo {
    return {
        id: s.source_name ?? "",
        host: s.host ?? "",
        port: s.port ?? 0,
        user: s.user ?? "",
        flavor: s.flavor ?? "",
        enableGtid: s.enable_gtid ?? false,
        enableRelay: s.relay_config?.enable_relay ?? false,
        taskNames: [...(taskNames ?? s.task_name_list ?? [])].sort(),
    };
}

/** Every source's configuration with its task names, from `GET /sources` and `GET /tasks` (both without status). */
export function sourceConfigsFromApi(sources: ApiSource[], tasks: ApiTask[]): SourceConfigInfo[] {
    const names = new Map<string, string[]>();
    for (const t of tasks) {
        for (const c of t.source_config?.source_conf ?? []) {
            if (t.name && c.source_name) {
                names.set(c.source_name, [...(names.get(c.source_name) ?? []), t.name]);
            }
        }
    }
    return sources.map((s) => sourceConfigFromApi(s, [...new Set(names.get(s.source_name ?? "") ?? [])]));
}

export function sourceFromApi(s: ApiSource): SourceInfo {
    const st = s.status_list?.[0];
    const relay = st?.relay_status;
    return {
        ...sourceConfigFromApi(s),
        worker: st?.worker_name ? st.worker_name : undefined,
        relay: relay
            ? {
                  stage: parseStage(relay.stage),
                  relayBinlogGtid: relay.relay_binlog_gtid ?? "",
                  relayCatchUpMaster: relay.relay_catch_up_master ?? false,
                  relaySubDir: relay.relay_dir ?? "",
                  errors: [],
              }
            : undefined,
        errors: (s.status_list ?? []).map((x) => line(x.error_msg)).filter((m) => m !== ""),
    };
}

interface Reply {
    status: number;
    body: unknown;
}

/**
 * The OpenAPI client of `ep.address`: one dm-master, or several (`a:8261,b:8261,c:8261`, ./address.ts)
 * tried in turn from the one that answered last. `log` hears which member answers, when that changes.
 * @default log none
 */
export function createOpenApiClient(ep: DmEndpoint, log?: (line: string) => void): DmClient {
    const secure = ep.tls !== undefined;
    const agent = secure
        ? new https.Agent({ keepAlive: true, maxSockets: 16, ca: ep.tls?.ca, cert: ep.tls?.cert, key: ep.tls?.key })
        : new http.Agent({ keepAlive: true, maxSockets: 16 });
    // Keep-alive sockets must not hold the process open once the caller is done.
    agent.on("free", (socket) => socket.unref());
    const members = dmMembers(ep.address);
    // With several members a state-changing call opens its own connection: a pooled one to a member that
    // died since fails with ECONNRESET as if the request had been sent, and it would not be retried elsewhere.
    const fresh = secure
        ? new https.Agent({ keepAlive: false, ca: ep.tls?.ca, cert: ep.tls?.cert, key: ep.tls?.key })
        : new http.Agent({ keepAlive: false });
    // The member that answered last: every call starts there (sticky), so a healthy cluster costs one request.
    let at = 0;
    const timeoutMs = ep.requestTimeoutMs ?? 10_000;

    /** One request to one member; an error that never reached an HTTP answer is a MemberUnreachable. */
    const callAt = (
        member: string,
        method: string,
        path: string,
        operation: string,
        target: string,
        body?: unknown,
        secrets: string[] = [],
    ): Promise<Reply> =>
        new Promise<Reply>((resolve, reject) => {
            const data = body === undefined ? undefined : JSON.stringify(body);
            const fail = (text: string, code?: number) => {
                const msg = oneLine(text, secrets);
                reject(new DmError(`${operation} ${target} failed: ${msg}`, operation, target, code ?? codeOf(msg)));
            };
            // Whether the connection was ever made: before that the request cannot have been sent.
            let connected = false;
            const req = (secure ? https : http).request(
                `${secure ? "https" : "http"}://${member}/api/v1${path}`,
                {
                    method,
                    agent: method !== "GET" && members.length > 1 ? fresh : agent,
                    timeout: timeoutMs,
                    headers:
                        data === undefined
                            ? {}
                            : { "content-type": "application/json", "content-length": Buffer.byteLength(data) },
                },
                (res) => {
                    let text = "";
                    res.setEncoding("utf8").on("data", (d: string) => (text += d));
                    res.on("end", () => {
                        let parsed: unknown = undefined;
                        try {
                            parsed = text.trim() === "" ? undefined : JSON.parse(text);
                        } catch {
                            parsed = undefined;
                        }
                        const status = res.statusCode ?? 0;
                        if (status >= 200 && status < 300) {
                            return resolve({ status, body: parsed });
                        }
                        if (status === 404) {
                            return resolve({ status, body: undefined });
                        }
                        const err = parsed as { error_msg?: string; error_code?: number; error?: string } | undefined;
                        if (err?.error_msg) {
                            return fail(
                                `${err.error_msg.replace(/[.\s]*$/, "")}. ${remedy(err.error_msg)}`,
                                err.error_code,
                            );
                        }
                        // Never the raw body: it may echo a request's password.
                        if (status === 400) {
                            // DM's OpenAPI answers its errors with 400: it is serving, the message is what is missing.
                            return fail(
                                `dm-master answered HTTP 400 without an error message${err?.error_code ? ` (DM error ${err.error_code})` : ""}. See dm-master's log.`,
                                err?.error_code || undefined,
                            );
                        }
                        if ((status === 502 || status === 503) && members.length > 1) {
                            // A member that is not the leader forwards to the leader and answers 502 when it cannot
                            // (the leader died: a new one is elected once its lease runs out, about a minute here).
                            const why = `HTTP ${status}: it could not pass the request to the cluster's leader`;
                            return reject(
                                new MemberUnreachable(member, why, false, `dm-master ${member} answered ${why}`),
                            );
                        }
                        fail(
                            `dm-master answered HTTP ${status}${err?.error ? ` (${err.error.split(":")[0]})` : ""}. Check that ${member} serves DM's OpenAPI (openapi = true) and see dm-master's log.`,
                        );
                    });
                },
            );
            req.on("socket", (socket) => {
                if (socket.connecting) {
                    socket.once(secure ? "secureConnect" : "connect", () => (connected = true));
                } else {
                    connected = true;
                }
            });
            req.on("timeout", () =>
                req.destroy(
                    Object.assign(new Error(`no answer within ${timeoutMs} ms`), {
                        code: connected ? "ETIMEDOUT" : "ECONNTIMEOUT",
                    }),
                ),
            );
            req.on("error", (e: NodeJS.ErrnoException) => {
                const tls = tlsFailure(member, secure, e.code);
                if (tls) {
                    return fail(tls);
                }
                const timedOut = e.code === "ECONNTIMEOUT" || e.code === "ETIMEDOUT";
                const why =
                    e.code === "ECONNTIMEOUT"
                        ? `no connection within ${timeoutMs} ms`
                        : timedOut
                          ? e.message
                          : (e.code ?? e.message);
                const neverSent = !connected || NEVER_SENT.has(e.code ?? "");
                reject(
                    new MemberUnreachable(
                        member,
                        why,
                        neverSent,
                        unreachable(member, secure, timedOut ? e.message : (e.code ?? e.message)),
                        `the connection to dm-master ${member} broke after the request was sent (${why})`,
                    ),
                );
            });
            req.end(data);
        });

    let named: string | undefined;
    /** Sticks to member `i`; with several members, says which one answered whenever that changes. */
    const answered = (i: number, tried: string[]) => {
        at = i;
        if (members.length > 1 && named !== members[i]) {
            named = members[i];
            log?.(`DM answered at ${members[i]}${tried.length > 0 ? ` (not at ${tried.join("; ")})` : ""}`);
        }
    };

    /**
     * One call, through the members from the one that answered last. A member that cannot be reached is
     * skipped; a state-changing call (`mutating`) moves on only when its request was never sent (the
     * connection was refused or never made): otherwise its outcome is unknown and the error says so.
     */
    const call = async (
        method: string,
        path: string,
        operation: string,
        target: string,
        body?: unknown,
        secrets: string[] = [],
    ): Promise<Reply> => {
        const mutating = method !== "GET";
        const tried: string[] = [];
        for (let n = 0; n < members.length; n++) {
            const i = (at + n) % members.length;
            try {
                const reply = await callAt(members[i], method, path, operation, target, body, secrets);
                answered(i, tried);
                return reply;
            } catch (err) {
                if (!(err instanceof MemberUnreachable)) {
                    answered(i, tried);
                    throw err;
                }
                if (members.length === 1) {
                    throw new DmError(`${operation} ${target} failed: ${err.text}`, operation, target);
                }
                tried.push(`${err.member} (${err.why})`);
                if (mutating && !err.neverSent) {
                    throw new DmError(
                        `${operation} ${target} failed: ${err.sent}, so whether DM did it is unknown; ` +
                            `it was not retried on another member. Read the state (query-status) through another of ${ep.address} before retrying.`,
                        operation,
                        target,
                    );
                }
            }
        }
        throw new DmError(
            `${operation} ${target} failed: no dm-master of ${ep.address} answered: ${tried.join("; ")}. ${
                tried.some((t) => / \(HTTP 50[23]: /.test(t))
                    ? "The cluster has no leader now: when the leader dies, dm-master elects another once its lease runs out (about a minute; GET /api/v1/cluster/masters names it); retry then."
                    : "Check that at least one of them runs with openapi = true and that the addresses and TLS settings are right."
            }`,
            operation,
            target,
        );
    };

    const get = (path: string, operation: string, target: string) => call("GET", path, operation, target);
    const enc = encodeURIComponent;

    const taskStatus = async (
        task: string,
        sourceId?: string,
        operation = "query-status",
    ): Promise<SubtaskStatus[]> => {
        const r = await oneAtATime(ep.address, () => get(`/tasks/${enc(task)}/status`, operation, task));
        if (r.status === 404) {
            throw new DmError(
                `${operation} ${task} failed: task ${task} does not exist. Check the task name (GET /api/v1/tasks).`,
                operation,
                task,
            );
        }
        const data = ((r.body as { data?: ApiSubtask[] })?.data ?? []).map((s) => subtaskFromApi(s, task));
        // dm-master ignores source_name_list on this path: filter here.
        return sourceId === undefined ? data : data.filter((s) => s.source === sourceId);
    };

    /** pause/resume name their sources: without a list, DM answers 200 for a task that does not exist. */
    const sourcesOf = async (task: string, operation: string, sourceIds?: string[]) =>
        sourceIds && sourceIds.length > 0
            ? sourceIds
            : [...new Set((await taskStatus(task, undefined, operation)).map((s) => s.source))];

    const getSource = async (id: string): Promise<SourceInfo | undefined> => {
        const r = await get(`/sources/${enc(id)}?with_status=true`, "get source", id);
        return r.status === 404 ? undefined : sourceFromApi(r.body as ApiSource);
    };

    return {
        endpoint: ep,
        getSource,
        async listSources() {
            const r = await get("/sources?with_status=true", "list sources", ep.address);
            return ((r.body as { data?: ApiSource[] })?.data ?? []).map(sourceFromApi);
        },
        getSourceFile: (id) => dmctlGetSourceFile(ep, id),
        async createSource(cfg) {
            if (cfg.baseFile !== undefined) {
                // POST /sources would reset every field its body does not carry to DM's default.
                return dmctlCreateSource(ep, cfg);
            }
            const source = {
                source_name: cfg.id,
                host: cfg.host,
                port: cfg.port,
                user: cfg.user,
                password: cfg.password,
                flavor: cfg.flavor,
                enable_gtid: cfg.enableGtid,
                enable: true,
                relay_config: {
                    enable_relay: cfg.enableRelay ?? false,
                    ...(cfg.relayBinlogGtid ? { relay_binlog_gtid: cfg.relayBinlogGtid } : {}),
                },
            };
            try {
                await call(
                    "POST",
                    "/sources",
                    "operate-source create",
                    cfg.id,
                    { source, ...(cfg.workerName ? { worker_name: cfg.workerName } : {}) },
                    [cfg.password],
                );
            } catch (err) {
                // With relay on, this DM creates the source, starts relay from its configuration for the bound
                // worker, then starts relay a second time and answers 46030 ("can't `start-relay` with worker
                // name"): the source exists with relay on, as asked. Anything else is a real failure.
                if (!(cfg.enableRelay && err instanceof DmError && err.code === RELAY_STARTED_TWICE)) {
                    throw err;
                }
                const created = await getSource(cfg.id);
                if (!created?.enableRelay) {
                    throw err;
                }
            }
        },
        async startRelay(id, worker) {
            // DM 2409e0b answers POST …/relay/enable while the source's tasks run with error 46025 ("can only be
            // updated when relay is disabled and no tasks are running"), where dmctl start-relay starts it (seen
            // live on MySQL 9.7, tests/integration/mysqlRelay.test.ts): dmctl when it is configured.
            if (ep.dmctlPath) {
                return dmctlStartRelay(ep, id, worker);
            }
            await call("POST", `/sources/${enc(id)}/relay/enable`, "start-relay", id, { worker_name_list: [worker] });
        },
        async stopRelay(id, worker) {
            await call("POST", `/sources/${enc(id)}/relay/disable`, "stop-relay", id, { worker_name_list: [worker] });
        },
        async stopSource(id) {
            // No force: like operate-source stop, DM refuses while tasks exist (force would remove their subtasks).
            const r = await call("DELETE", `/sources/${enc(id)}`, "operate-source stop", id);
            if (r.status === 404) {
                throw new DmError(
                    `operate-source stop ${id} failed: source ${id} does not exist. Check the source id (GET /api/v1/sources).`,
                    "operate-source stop",
                    id,
                );
            }
        },
        async tasksOfSource(id) {
            const s = await getSource(id);
            if (!s) {
                throw new DmError(
                    `list tasks of source ${id} failed: source ${id} does not exist. Check the source id (GET /api/v1/sources).`,
                    "list tasks",
                    id,
                );
            }
            return s.taskNames;
        },
        async getSourceConfig(id) {
            const s = await getSource(id);
            return s && configOf(s);
        },
        async listSourceConfigs() {
            // Neither request reaches a dm-worker; GET /tasks answers each task's full config (with the
            // downstream password): only names are kept, and call() never puts a body into an error.
            const [sources, tasks] = await Promise.all([
                get("/sources", "list sources", ep.address),
                get("/tasks", "list tasks", ep.address),
            ]);
            return sourceConfigsFromApi(
                (sources.body as { data?: ApiSource[] })?.data ?? [],
                (tasks.body as { data?: ApiTask[] })?.data ?? [],
            );
        },
        taskStatus: (task, sourceId) => taskStatus(task, sourceId),
        // One worker request for every task of the source, through dm-master's gRPC (./grpcStatus.ts: it tries the members itself).
        sourceTaskStatus: grpcSourceStatus(ep),
        async pauseTask(task, sourceIds) {
            await call("POST", `/tasks/${enc(task)}/stop`, "pause-task", task, {
                source_name_list: await sourcesOf(task, "pause-task", sourceIds),
            });
        },
        async resumeTask(task, sourceIds) {
            await call("POST", `/tasks/${enc(task)}/start`, "resume-task", task, {
                source_name_list: await sourcesOf(task, "resume-task", sourceIds),
                remove_meta: false,
            });
        },
        getTaskConfig: (task) => dmctlGetTaskConfig(ep, task),
        stopTask: (task) => dmctlStopTask(ep, task),
        startTask: (taskConfig, opts) => dmctlStartTask(ep, taskConfig, opts),
    };
}

/** Errors of a connection that was never made: the request cannot have reached dm-master. */
const NEVER_SENT = new Set([
    "ECONNREFUSED",
    "EHOSTUNREACH",
    "ENETUNREACH",
    "EADDRNOTAVAIL",
    "ENOTFOUND",
    "EAI_AGAIN",
    "ECONNTIMEOUT",
]);

/** A member that gave no HTTP answer: `neverSent` when the request cannot have reached it. */
class MemberUnreachable extends Error {
    constructor(
        readonly member: string,
        readonly why: string,
        readonly neverSent: boolean,
        /** The one-member error text (address, cause and remedy). */
        readonly text: string,
        /** What happened to a request that may have reached DM. */
        readonly sent = text,
    ) {
        super(text);
    }
}

const unreachable = (address: string, secure: boolean, why: string) =>
    `cannot reach dm-master at ${address} (${why}). Check that dm-master runs there with openapi = true and that the address and TLS settings are right` +
    // dm-master with TLS resets a plain HTTP request (no HTTP answer at all).
    (!secure && why === "ECONNRESET" ? "; a dm-master with TLS (ssl-ca) needs tls: ca, cert and key." : ".");

/** Node's codes for a server certificate it does not trust (see `tls.checkServerIdentity`, OpenSSL's verify errors). */
const UNTRUSTED =
    /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_\w+|ERR_TLS_CERT_ALTNAME_INVALID)$/;

/**
 * A one-line TLS error with its remedy, or undefined when `code` is not about TLS. dm-master with
 * `ssl-ca` requires and verifies a client certificate; the OpenAPI transport verifies dm-master's
 * certificate against `tls.ca` (Node's default CAs without it) and its name against the address.
 */
export function tlsFailure(address: string, secure: boolean, code: string | undefined): string | undefined {
    if (!secure || code === undefined) {
        return undefined;
    }
    if (UNTRUSTED.test(code)) {
        return `TLS handshake with dm-master at ${address} failed: its certificate is not trusted (${code}). Set tls.ca to the PEM of the CA that signed dm-master's certificate (its ssl-ca), with ${address.replace(/:\d+$/, "")} in its subjectAltName.`;
    }
    if (/^ERR_SSL_.*ALERT/.test(code)) {
        return `TLS handshake with dm-master at ${address} failed (${code}): dm-master refused the client. Set tls.cert and tls.key to a client certificate signed by dm-master's CA (its ssl-ca).`;
    }
    if (/^(ERR_SSL_|EPROTO$)/.test(code)) {
        return `TLS handshake with dm-master at ${address} failed (${code}). Check that dm-master runs with TLS (ssl-ca, ssl-cert, ssl-key) at that address, or remove tls.`;
    }
    return undefined;
}

function remedy(msg: string): string {
    if (/Workaround:/.test(msg)) {
        return "";
    }
    if (/not exist|not found|haven't been added/i.test(msg)) {
        return "Check the task and source names (GET /api/v1/tasks, GET /api/v1/sources).";
    }
    if (/existing tasks/i.test(msg)) {
        return "Stop the source's tasks first (stop-task), then retry.";
    }
    return "Fix the cause and retry; dm-master's log has details.";
}
