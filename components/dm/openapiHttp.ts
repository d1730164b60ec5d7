/**
 * The OpenAPI's HTTP: one request to one dm-master, and one call through the members of a dm-master
 * cluster from the one that answered last (./openapi.ts builds the DmClient on it). No response body
 * ever reaches an error text: DM echoes a request's password.
 */
import * as http from "node:http";
import * as https from "node:https";
import { dmMembers } from "./address";
import { codeOf, DmEndpoint, DmError, oneLine } from "./types";
import { pollUntil } from "../util/poll";

/** One OpenAPI request: `operation` and `target` name it in errors (dmctl's words); `secrets` are masked there. */
export interface ApiRequest {
    method: string;
    /** Under /api/v1. */
    path: string;
    operation: string;
    target: string;
    /** Sent as JSON. @default undefined (no body) */
    body?: unknown;
    /** @default [] */
    secrets?: string[];
    /**
     * Sending it twice does what sending it once does (pause-task, resume-task: DM sets the task's expected
     * stage), so it may be sent again when its outcome is unknown. @default false
     */
    idempotent?: boolean;
}

/** An answer: 2xx with its parsed body, or 404 with none; any other status is a DmError. */
export interface Reply {
    status: number;
    body: unknown;
}

/**
 * The caller of `ep.address`: one dm-master, or several (`a:8261,b:8261,c:8261`, ./address.ts) tried in
 * turn from the one that answered last. `log` hears which member answers, when that changes.
 * @default log none
 */
export function openApiCaller(ep: DmEndpoint, log?: (line: string) => void): (request: ApiRequest) => Promise<Reply> {
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
    const leaderWaitMs = members.length > 1 ? (ep.leaderWaitMs ?? 90_000) : 0;

    /** One request to one member; an error that never reached an HTTP answer is a MemberUnreachable. */
    const callAt = (
        member: string,
        { method, path, operation, target, body, secrets = [] }: ApiRequest,
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
    const attempt = async (request: ApiRequest): Promise<Reply | NoLeader> => {
        const { method, operation, target } = request;
        const mutating = method !== "GET";
        const tried: string[] = [];
        for (let n = 0; n < members.length; n++) {
            const i = (at + n) % members.length;
            try {
                const reply = await callAt(members[i], request);
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
                if (mutating && !err.neverSent && !request.idempotent) {
                    throw new DmError(
                        `${operation} ${target} failed: ${err.sent}, so whether DM did it is unknown; ` +
                            `it was not retried on another member. Read the state (query-status) through another of ${ep.address} before retrying.`,
                        operation,
                        target,
                    );
                }
            }
        }
        const noLeader = tried.some((t) => / \(HTTP 50[23]: /.test(t));
        const error = new DmError(
            `${operation} ${target} failed: no dm-master of ${ep.address} answered: ${tried.join("; ")}. ${
                noLeader
                    ? "The cluster has no leader now: when the leader dies, dm-master elects another once its lease runs out (about a minute; GET /api/v1/cluster/masters names it); retry then."
                    : "Check that at least one of them runs with openapi = true and that the addresses and TLS settings are right."
            }`,
            operation,
            target,
        );
        if (noLeader && (!mutating || request.idempotent)) {
            return new NoLeader(error, tried);
        }
        throw error;
    };

    /**
     * One call; when the members that answer have no leader to pass it to, a read or a request safe to repeat
     * is tried again every second until the cluster has elected one, at most `leaderWaitMs` (said in the log
     * when the wait begins and ends): a switch whose tasks are paused then completes through another member.
     */
    const call = async (request: ApiRequest): Promise<Reply> => {
        const first = await attempt(request);
        if (!(first instanceof NoLeader)) {
            return first;
        }
        if (leaderWaitMs <= 0) {
            throw first.error;
        }
        const what = `${request.operation} ${request.target}`;
        log?.(
            `no dm-master of ${ep.address} has a leader to pass ${what} to (${first.tried.join("; ")}); waiting up to ${leaderWaitMs} ms for DM to elect one`,
        );
        const start = Date.now();
        let last = first;
        const reply = await pollUntil(
            async () => {
                const r = await attempt(request);
                if (r instanceof NoLeader) {
                    last = r;
                    return undefined;
                }
                return r;
            },
            { intervalMs: LEADER_POLL_MS, timeoutMs: leaderWaitMs },
        );
        if (reply === undefined) {
            throw new DmError(
                `${last.error.message} (waited ${Date.now() - start} ms for a leader)`,
                request.operation,
                request.target,
            );
        }
        log?.(`the DM cluster at ${ep.address} answered ${what} again after ${Date.now() - start} ms without a leader`);
        return reply;
    };

    return call;
}

/** How often a request waiting for the cluster's leader is tried again. */
const LEADER_POLL_MS = 1000;

/** Every member that answered could not pass the request to a leader: `error` says so, `tried` names them. */
class NoLeader {
    constructor(
        readonly error: DmError,
        readonly tried: string[],
    ) {}
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
