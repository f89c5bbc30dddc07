// `dib-pypi plan`: its flags, help and options (run by ../plan-command.ts).
import { defineCommand, type OptionsOf } from './declare.js';
import { JSON_OPTION, PLAN_OPTIONS, planFlags, VARIABLES } from './shared-options.js';

export const plan = defineCommand({
  name: 'plan',
  summary: 'show the plan built from flags, DIB_* variables and .env, and the pip.conf it would write',
  usage: 'dib-pypi plan [options]',
  options: { ...PLAN_OPTIONS, ...JSON_OPTION },
  notes: VARIABLES,
  normalize: (values) => ({ ...planFlags(values), json: values.json }),
});

export type PlanOptions = OptionsOf<typeof plan>;
