/**
 * The version dm-master reports, for capability decisions (./capabilities.ts). dm-master serves
 * `GET /status` (plain text: "Release Version: …", "Git Commit Hash: …") on its master-addr, the
 * listener both transports use, whether or not the OpenAPI is on: so one read serves both, over HTTPS
 * with the endpoint's TLS contents when it has them.
 */
import * as http from "node:http";
import * as https from "node:https";
import { dmMembers } from "./address";
import { DmVersion, parseDmStatus } from "./capabilities";
import { DmEndpoint, DmError } from "./types";

/**
 * Reads dm-master's `/status` at `ep.address`; with several members (`a:8261,b:8261`, ./address.ts) from
 * the first that answers (every member runs the same build). Throws a DmError naming the address (the
 * last member's when none answers) and the remedy.
 */
export async function readDmVersion(ep: Pick<DmEndpoint, "address" | "tls" | "requestTimeoutMs">): Promise<DmVersion> {
    const members = dmMembers(ep.address);
    for (const [i, address] of members.entries()) {
        try {
            return await readOne({ ...ep, address });
        } catch (err) {
            if (i === members.length - 1) {
                throw err;
            }
        }
    }
    throw new TypeError("readDmVersion: no dm-master address");
}

function readOne(ep: Pick<DmEndpoint, "address" | "tls" | "requestTimeoutMs">): Promise<DmVersion> {
    const secure = ep.tls !== undefined;
    const timeoutMs = ep.requestTimeoutMs ?? 10_000;
    const fail = (why: string) =>
        new DmError(`reading DM's version from ${ep.address} failed: ${why}`, "status", ep.address);
    return new Promise((resolve, reject) => {
        const opts: https.RequestOptions = {
            timeout: timeoutMs,
            agent: false,
            ...(secure ? { ca: ep.tls?.ca, cert: ep.tls?.cert, key: ep.tls?.key } : {}),
        };
        const req = (secure ? https : http).get(`${secure ? "https" : "http"}://${ep.address}/status`, opts, (res) => {
            let text = "";
            res.setEncoding("utf8").on("data", (d: string) => (text += d));
            res.on("end", () => {
                if (res.statusCode !== 200) {
                    return reject(
                        fail(`dm-master answered HTTP ${res.statusCode ?? 0} to GET /status; see dm-master's log.`),
                    );
                }
                try {
                    resolve(parseDmStatus(text));
                } catch (e) {
                    reject(fail((e as Error).message));
                }
            });
        });
        req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on("error", (e: NodeJS.ErrnoException) =>
            reject(
                fail(
                    `${e.code ?? e.message}; check that dm-master listens at ${ep.address}${secure ? " with TLS" : ""}.`,
                ),
            ),
        );
    });
}
