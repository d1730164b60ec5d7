/**
 * Stand-ins for DM in unit tests: a dm-master on loopback answering the OpenAPI from a function, one
 * answering gRPC (pb.Master) methods with bytes, and
 * dmctl scripts that print a recorded answer and log how they were called. Each test closes (cleans up)
 * what it started.
 */
import * as grpc from "@grpc/grpc-js";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

/** A request as the stand-in received it. */
export interface StandInRequest {
    method: string;
    url: string;
    body: string;
}

/** A dm-master stand-in listening on loopback. */
export interface DmMasterStandIn {
    /** host:port on 127.0.0.1. */
    addr: string;
    /** Each request, in the order they ended. */
    requests: StandInRequest[];
    /** `METHOD url` of each request. */
    hits: string[];
    /** Stops listening and drops open connections. */
    close(): Promise<void>;
}

/** The address a listening server got (127.0.0.1:port). */
export function listen(server: net.Server): Promise<string> {
    return new Promise((resolve) =>
        server.listen(0, "127.0.0.1", () => resolve(`127.0.0.1:${(server.address() as net.AddressInfo).port}`)),
    );
}

/**
 * A dm-master on loopback whose OpenAPI answers come from `answer`: an HTTP status and a body sent as
 * JSON (undefined: an empty body).
 */
export async function startDmMaster(answer: (req: StandInRequest) => [number, unknown?]): Promise<DmMasterStandIn> {
    const requests: StandInRequest[] = [];
    const hits: string[] = [];
    const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (d) => (body += d));
        req.on("end", () => {
            const r = { method: req.method!, url: req.url!, body };
            requests.push(r);
            hits.push(`${r.method} ${r.url}`);
            const [status, reply] = answer(r);
            res.writeHead(status, { "content-type": "application/json" }).end(
                reply === undefined ? "" : JSON.stringify(reply),
            );
        });
    });
    const addr = await listen(server);
    return {
        addr,
        requests,
        hits,
        close: () =>
            new Promise((r) => {
                server.closeAllConnections();
                server.close(() => r());
            }),
    };
}

/** A dmctl stand-in (an executable script) and what it logged. */
export interface DmctlStandIn {
    /** The executable's path. */
    script: string;
    /** Each run: `ARGV <args>`, `CWD <dir>`, and for each argument that is a file `MODE <octal>` and its text. */
    log(): string;
    /** Removes the script's folder. */
    cleanup(): void;
}

/** A dmctl that logs its argv, cwd and the files it was given, then prints `reply` as JSON. */
export function fakeDmctl(reply: unknown): DmctlStandIn {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dm-test-"));
    fs.writeFileSync(path.join(dir, "reply.json"), JSON.stringify(reply));
    const script = path.join(dir, "dmctl");
    fs.writeFileSync(
        script,
        `#!/bin/sh\n{ echo "ARGV $*"; echo "CWD $PWD"; for a in "$@"; do if [ -f "$a" ]; then echo "MODE $(stat -c %a "$a")"; cat "$a"; fi; done; } >> ${dir}/log\ntouch dmctl.log\ncat ${dir}/reply.json\n`,
        { mode: 0o755 },
    );
    return {
        script,
        log: () => fs.readFileSync(path.join(dir, "log"), "utf8"),
        cleanup: () => fs.rmSync(dir, { recursive: true }),
    };
}

/** A dmctl answering operate-source create with `create` and get-config source with `cfg`. */
export function fakeDmctlCreate(create: unknown, cfg: string): Omit<DmctlStandIn, "log"> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dm-test-"));
    fs.writeFileSync(path.join(dir, "create.json"), JSON.stringify(create));
    fs.writeFileSync(path.join(dir, "cfg.json"), JSON.stringify({ result: true, msg: "", cfg }));
    const script = path.join(dir, "dmctl");
    fs.writeFileSync(
        script,
        `#!/bin/sh\ncase "$*" in *get-config*) cat ${dir}/cfg.json ;; *) cat ${dir}/create.json ;; esac\n`,
        { mode: 0o755 },
    );
    return { script, cleanup: () => fs.rmSync(dir, { recursive: true }) };
}

/**
 * A dm-master on loopback answering the gRPC methods of pb.Master named in `handlers` with raw bytes (or a
 * gRPC error); it records each request's bytes.
 */
export async function startGrpcDmMaster(
    handlers: Record<string, (req: Buffer) => Buffer | grpc.ServiceError>,
): Promise<{ address: string; requests: Buffer[]; stop(): void }> {
    const server = new grpc.Server();
    const requests: Buffer[] = [];
    const pass = (b: Buffer) => b;
    const service: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
    const impl: grpc.UntypedServiceImplementation = {};
    for (const [name, answer] of Object.entries(handlers)) {
        service[name] = {
            path: `/pb.Master/${name}`,
            requestStream: false,
            responseStream: false,
            requestSerialize: pass,
            requestDeserialize: pass,
            responseSerialize: pass,
            responseDeserialize: pass,
        };
        impl[name] = (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
            requests.push(call.request);
            const got = answer(call.request);
            return Buffer.isBuffer(got) ? cb(null, got) : cb(got);
        };
    }
    server.addService(service, impl);
    const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
            e ? reject(e) : resolve(p),
        ),
    );
    return { address: `127.0.0.1:${port}`, requests, stop: () => server.forceShutdown() };
}
