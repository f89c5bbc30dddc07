// `dib-pypi plan`: show the plan, where each value came from, and the files configure would write.
import { renderPipConf, renderPydistutilsCfg } from '../inject/render-pip-conf.js';
import type { IndexUrl, Plan } from '../plan/types.js';
import { printJson, printLine, warnAll } from './output.js';
import { planFromCli } from './plan-input.js';
import type { PlanOptions } from './commands/plan.js';

/** The plan as JSON: stable key order; URLs are redacted on output. */
export function planToJson(plan: Plan): Record<string, unknown> {
  const url = (i: IndexUrl) => ({ url: i.url, source: i.source, origin: i.origin });
  return {
    indexUrl: url(plan.indexUrl),
    extraIndexUrls: plan.extraIndexUrls.map(url),
    trustedHosts: plan.trustedHosts,
    retries: plan.retries ?? null,
    offline: plan.offline,
    noPypi: plan.noPypi,
    warnings: plan.warnings,
    files: { 'pip.conf': renderPipConf(plan), '.pydistutils.cfg': renderPydistutilsCfg(plan) },
  };
}

export async function runPlan(flags: PlanOptions): Promise<void> {
  const plan = await planFromCli(flags, process.env, process.cwd());
  warnAll(plan.warnings);
  if (flags.json) {
    printJson(planToJson(plan));
    return;
  }
  const row = (key: string, value: string, origin: string) => printLine(`${key.padEnd(16)} ${value}  (${origin})`);
  row('index-url', plan.indexUrl.url, plan.indexUrl.origin);
  for (const extra of plan.extraIndexUrls) row('extra-index-url', extra.url, extra.origin);
  printLine(`${'trusted-host'.padEnd(16)} ${plan.trustedHosts.join(' ') || '-'}`);
  row('retries', plan.retries ? String(plan.retries.value) : "pip's default", plan.retries?.origin ?? 'default');
  row('offline', plan.offline.value ? 'yes' : 'no', plan.offline.origin);
  row('no-pypi', plan.noPypi.value ? 'yes' : 'no', plan.noPypi.origin);
  printLine('\n# pip.conf (/etc/pip.conf; also replaces ~/.pip/pip.conf, ~/.config/pip/pip.conf, /etc/xdg/pip/pip.conf where they exist)');
  printLine(renderPipConf(plan).trimEnd());
  printLine('\n# ~/.pydistutils.cfg');
  printLine(renderPydistutilsCfg(plan).trimEnd());
}
