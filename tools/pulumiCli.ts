/**
 * Runs the real Pulumi CLI offline against a throw-away stack: used by the integration tests, the demo
 * and the benchmarks. Every stack lives in its own temporary state folder (file backend, PULUMI_HOME).
 */
import { spawn } from "node:child_process";
import yaml from "js-yaml";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pulumiBin, pulumiEnv } from "./env";

export interface PulumiResult {
    code: number;
    stdout: string;
    stderr: string;
    /** stdout and stderr together, in arrival order. */
    output: string;
    ms: number;
}

export interface TempStackOptions {
    /** The Pulumi project folder (holding Pulumi.yaml). */
    projectDir: string;
    stackName?: string;
    /** Extra environment for every command (e.g. provider settings). */
    env?: NodeJS.ProcessEnv;
    /** Called with each chunk of output as it arrives. */
    onOutput?: (chunk: string) => void;
}

export interface TempStack {
    stateDir: string;
    stackName: string;
    env: NodeJS.ProcessEnv;
    /** Runs `pulumi <args> --stack <stack> --non-interactive` in the project folder. */
    run(args: string[], opts?: { timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<PulumiResult>;
    /** `pulumi config set`; a secret value goes through stdin, never the argument list. */
    setConfig(key: string, value: string, opts?: { secret?: boolean; path?: boolean }): Promise<void>;
    /** Writes plain (non-secret) config values straight into the stack's config file: objects stay objects. */
    writeConfig(values: Record<string, unknown>): void;
    /** The stack's state as `pulumi stack export` prints it. */
    exportState(): Promise<{
        deployment: { resources?: { type: string; urn: string; outputs?: Record<string, unknown> }[] };
    }>;
    /** Destroys what is left, removes the stack and its state folder. */
    dispose(): Promise<void>;
}

function runPulumi(
    args: string[],
    cwd: string,
    env: NodeJS.ProcessEnv,
    timeoutMs: number,
    onOutput?: (chunk: string) => void,
    stdin?: string,
): Promise<PulumiResult> {
    const start = Date.now();
    return new Promise((resolve, reject) => {
        const child = spawn(pulumiBin(), args, {
            cwd,
            env,
            stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
        });
        if (stdin !== undefined) {
            child.stdin!.end(stdin);
        }
        let stdout = "";
        let stderr = "";
        let output = "";
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.stdout!.on("data", (d: Buffer) => {
            stdout += d;
            output += d;
            onOutput?.(String(d));
        });
        child.stderr!.on("data", (d: Buffer) => {
            stderr += d;
            output += d;
            onOutput?.(String(d));
        });
        child.on("error", (err) => {
            clearTimeout(timer);
            reject(new Error(`cannot run ${pulumiBin()}: ${err.message} (run 'npm run setup')`));
        });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            const ms = Date.now() - start;
            if (signal) {
                output += `\n[pulumi ${args[0]} killed by ${signal} after ${ms} ms]`;
            }
            resolve({ code: code ?? 128, stdout, stderr, output, ms });
        });
    });
}

let stackCount = 0;

/** Creates a stack in a fresh temporary state folder. */
export async function createTempStack(opts: TempStackOptions): Promise<TempStack> {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "dm-switch-pulumi-"));
    const stackName = opts.stackName ?? `test-${process.pid}-${++stackCount}`;
    const env: NodeJS.ProcessEnv = {
        ...pulumiEnv({ stateDir }),
        // Type checking is `npm run typecheck`'s job; the engine only needs to run the program.
        PULUMI_NODEJS_TRANSPILE_ONLY: "true",
        ...opts.env,
    };
    // The stack's config file lives in the state folder, so tests never write into the project.
    const configFile = path.join(stateDir, `Pulumi.${stackName}.yaml`);
    const run: TempStack["run"] = (args, o) =>
        runPulumi(
            [
                ...args,
                "--stack",
                stackName,
                ...(args[0] === "stack" ? [] : ["--config-file", configFile]),
                "--non-interactive",
            ],
            opts.projectDir,
            { ...env, ...o?.env },
            o?.timeoutMs ?? 300_000,
            opts.onOutput,
        );
    const init = await runPulumi(["stack", "init", stackName, "--non-interactive"], opts.projectDir, env, 60_000);
    // `stack init` has no --config-file: move the file it wrote (the secrets salt) into the state folder.
    const written = path.join(opts.projectDir, `Pulumi.${stackName}.yaml`);
    if (fs.existsSync(written)) {
        fs.renameSync(written, configFile);
    }
    if (init.code !== 0) {
        fs.rmSync(stateDir, { recursive: true, force: true });
        throw new Error(`pulumi stack init failed:\n${init.output}`);
    }
    const must = async (args: string[], stdin?: string): Promise<PulumiResult> => {
        const r =
            stdin === undefined
                ? await run(args)
                : await runPulumi(
                      [...args, "--stack", stackName, "--config-file", configFile, "--non-interactive"],
                      opts.projectDir,
                      env,
                      60_000,
                      undefined,
                      stdin,
                  );
        if (r.code !== 0) {
            throw new Error(`pulumi ${args[0]} ${args[1] ?? ""} failed:\n${r.output}`);
        }
        return r;
    };
    return {
        stateDir,
        stackName,
        env,
        run,
        async setConfig(key, value, o) {
            const flags = [...(o?.path ? ["--path"] : []), o?.secret ? "--secret" : "--plaintext"];
            await (o?.secret
                ? must(["config", "set", ...flags, key], value)
                : must(["config", "set", ...flags, key, value]));
        },
        writeConfig(values) {
            const doc = (fs.existsSync(configFile) ? (yaml.load(fs.readFileSync(configFile, "utf8")) ?? {}) : {}) as {
                config?: Record<string, unknown>;
            };
            doc.config = { ...doc.config, ...values };
            fs.writeFileSync(configFile, yaml.dump(doc, { lineWidth: -1 }));
        },
        async exportState() {
            return JSON.parse((await must(["stack", "export"])).stdout);
        },
        async dispose() {
            try {
                await run(["destroy", "--yes", "--skip-preview"]);
                await runPulumi(
                    ["stack", "rm", stackName, "--yes", "--force", "--non-interactive"],
                    opts.projectDir,
                    env,
                    60_000,
                );
            } finally {
                fs.rmSync(stateDir, { recursive: true, force: true });
            }
        },
    };
}
