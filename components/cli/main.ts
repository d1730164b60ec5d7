/**
 * The `dm-switch` command line (started by bin/dm-switch.js): a table of commands, each loaded only when
 * it runs, so that a command that needs the MySQL driver or DM's client costs nothing to the others.
 *
 * Exit codes shared by every command: 0 done / allowed, 1 unexpected failure, 2 bad input (the message
 * names the flag), 3 the checked rule does not hold. A command may add its own (preflight: 4 unreachable).
 */

/** Where a command writes and what it reads from the environment; the process's by default. */
export interface CommandIo {
    /** Writes to standard output (results). */
    out: (text: string) => void;
    /** Writes to standard error (diagnostics). */
    err: (text: string) => void;
    /** Environment variables (e.g. passwords, never taken as flags). */
    env: NodeJS.ProcessEnv;
}

/** One entry of the command table. */
export interface Command {
    /** One line for `dm-switch --help`. */
    summary: string;
    /** Runs the command with the words after its name; resolves to the exit code. */
    run: (argv: string[], io: CommandIo) => Promise<number>;
}

/** Exit codes common to all commands. */
export const EXIT = { ok: 0, failed: 1, usage: 2, ruleFails: 3 } as const;

/**
 * Every command, by the words that name it. Add a command with one line. Modules load with `require`
 * inside `run` — not `import()`, which would bypass the tsx hook bin/dm-switch.js registers for CommonJS.
 */
export const commands: Record<string, Command> = {
    "gtid check": {
        summary: "check DM's switch rule gtid-S ⊇ gtid-P and gtid-E ⊇ gtid-S on GTID sets given as text",
        run: async (argv, io) => (require("./gtidCheck") as typeof import("./gtidCheck")).gtidCheckCommand(argv, io),
    },
    preflight: {
        summary: "may a DM source switch to a target instance now, and why (reads DM and the target, changes nothing)",
        run: async (argv, io) => (require("./preflight") as typeof import("./preflight")).preflightCommand(argv, io),
    },
};

/** The standard streams and environment of this process. */
export function processIo(): CommandIo {
    return { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), env: process.env };
}

function overview(): string {
    const names = Object.keys(commands).sort();
    const width = Math.max(...names.map((n) => n.length));
    return [
        "usage: dm-switch <command> [flags]   (dm-switch <command> --help for its flags)",
        "",
        "commands:",
        ...names.map((n) => `  ${n.padEnd(width)}  ${commands[n].summary}`),
        "",
    ].join("\n");
}

/**
 * Runs `dm-switch` with `argv` (the words after the program name): finds the longest command name its
 * leading words spell, runs that command, and turns an unexpected exception into exit 1.
 */
export async function main(argv: string[], io: CommandIo = processIo()): Promise<number> {
    const words = argv.findIndex((w) => w.startsWith("-"));
    const lead = words < 0 ? argv : argv.slice(0, words);
    let name: string | undefined;
    for (let n = lead.length; n > 0 && name === undefined; n--) {
        const candidate = lead.slice(0, n).join(" ");
        if (Object.prototype.hasOwnProperty.call(commands, candidate)) {
            name = candidate;
        }
    }
    if (name === undefined) {
        const typed = lead.join(" ");
        const under = Object.keys(commands).filter((n) => typed !== "" && n.startsWith(`${typed} `));
        if ((lead.length === 0 || under.length > 0) && (argv.includes("--help") || argv.includes("-h"))) {
            io.out(overview());
            return EXIT.ok;
        }
        const problem =
            typed === ""
                ? "no command given"
                : under.length > 0
                  ? `"${typed}" needs one more word: ${under.join(", ")}`
                  : `unknown command "${typed}"`;
        io.err(`dm-switch: ${problem}\n${overview()}`);
        return EXIT.usage;
    }
    try {
        return await commands[name].run(argv.slice(name.split(" ").length), io);
    } catch (e) {
        io.err(`dm-switch ${name}: unexpected failure: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
        return EXIT.failed;
    }
}

if (require.main === module) {
    void main(process.argv.slice(2)).then((code) => {
        process.exitCode = code;
    });
}
