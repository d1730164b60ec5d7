/**
 * The VipIntent resource's provider: validates and records a hooked VIP's intended target. The
 * hooked resource moves the VIP and the hooks switch DM; the policy pack checks the rule from this.
 */
import * as pulumi from "@pulumi/pulumi";
import { checkVipIntentInputs, VipIntentInputs } from "./inputs";

type Outputs = Omit<VipIntentInputs, "password">;

function outputsOf(inputs: VipIntentInputs): Outputs {
    const { password: _password, ...rest } = inputs;
    return rest;
}

export const provider = {
    async check(_olds: unknown, news: VipIntentInputs) {
        return { inputs: news, failures: checkVipIntentInputs(news) };
    },
    async diff(_id: string, olds: Outputs, news: VipIntentInputs): Promise<pulumi.dynamic.DiffResult> {
        const o = olds as unknown as Record<string, unknown>;
        const n = outputsOf(news) as unknown as Record<string, unknown>;
        const keys = new Set([...Object.keys(o), ...Object.keys(n)].filter((k) => k !== "__provider"));
        const changes = [...keys].some((k) => JSON.stringify(o[k]) !== JSON.stringify(n[k]));
        return { changes, replaces: olds.sourceId !== news.sourceId ? ["sourceId"] : [] };
    },
    async create(inputs: VipIntentInputs) {
        return { id: `${inputs.sourceId}-intent`, outs: outputsOf(inputs) };
    },
    async update(_id: string, _olds: Outputs, news: VipIntentInputs) {
        return { outs: outputsOf(news) };
    },
} satisfies pulumi.dynamic.ResourceProvider<VipIntentInputs, Outputs>;
