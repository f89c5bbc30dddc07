// undici's Agent on its own: `import { Agent } from 'undici'` bundles the whole package (fetch,
// WebSocket, the cache, the mock agent: most of the sync's bundle) although the upstream
// transport uses only Agent.dispatch(). undici 6 has no `exports` map, so its file can be named.
declare module 'undici/lib/dispatcher/agent.js' {
  import { Agent } from 'undici';
  export default Agent;
}
