// PIP_* variables in an image's config (`ENV`): pip reads them after every pip.conf, so they beat the one we mount. Pure.

/** One warning per PIP_* variable that steers the index, naming the variable, never its value. */
export function pipEnvWarnings(image: string, env: readonly string[]): string[] {
  const names = env
    .map((entry) => entry.split('=', 1)[0] as string)
    .filter((name) => /^PIP_(INDEX_URL|EXTRA_INDEX_URL|NO_INDEX|FIND_LINKS|CONFIG_FILE)$/i.test(name));
  return [...new Set(names)]
    .sort()
    .map((name) => `${image} sets ${name} in its config (ENV): pip prefers it to the mounted /etc/pip.conf, so it may bypass the mirror`);
}
