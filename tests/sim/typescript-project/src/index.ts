// A TypeScript Worker with type annotations and an import of a second .ts file, which
// tst_wranglerconfig bundles with esbuild.
import { greet, type Greeting } from './greeting';

interface Env {
  NAME: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const greeting: Greeting = greet(env.NAME, new URL(request.url).pathname);
    return new Response(`${greeting.text} (${greeting.length} characters)`);
  },
};
