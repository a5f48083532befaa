import { SocklabError } from '../errors.js';
import { isLoopback } from '../endpoints/tcp-server.js';
import { parseAddress } from '../parse/address.js';
import { MAX_VIEWERS, servingOf, startServing } from '../serve/serve.js';
import { defineCommand } from './define.js';

/** `[HOST:]PORT` for the page: a TCP address, never a socket path. Throws E_BAD_ADDRESS. */
export function parseServeAddress(text: string): { host?: string; port: number } {
  const address = parseAddress(text, 'listen');
  if (address.path !== undefined) throw new SocklabError('E_BAD_ADDRESS', `bad address "${text}" for the page: use PORT or HOST:PORT, e.g. 8080 or 0.0.0.0:8080`);
  return address.host === undefined ? { port: address.port } : { host: address.host, port: address.port };
}

/**
 * A downloaded script must not open the session to the network by itself: that
 * takes the person's own `--serve`. Throws `E_PERMISSION` for a host other than
 * `localhost` or a loopback address (127.0.0.0/8, ::1).
 */
function refuseNetworkServe(text: string): void {
  if (text === 'stop') return;
  const { host } = parseServeAddress(text);
  if (host !== undefined && host !== 'localhost' && !isLoopback(host)) {
    throw new SocklabError('E_PERMISSION', `a script may serve the page on 127.0.0.1 only, not ${host.includes(':') ? `[${host}]` : host}: to show it to the network, start socklab --serve ${text} yourself`);
  }
}

export const serve = defineCommand({
  name: 'serve',
  group: 'teaching',
  summary: 'a read-only web page of this session for the class: .serve PORT, .serve stop',
  args: { usage: '.serve [HOST:]PORT | stop', positionals: ['ADDRESS'] },
  help:
    'The endpoints table, the event log (escaped and folded as here) and the sequence diagram, live, in any browser; served by socklab itself, nothing from the internet. ' +
    'It binds 127.0.0.1 unless a host is given; on any other address (0.0.0.0 for a classroom) it prints a link with a token, and a request without it gets 403 and a note here. ' +
    `Nobody can change the session through it (GET only). Up to ${MAX_VIEWERS} viewers; one that reads too slowly is resynced, never buffered without bound. ` +
    '?large=1 on the link sets large type for a projector. A script may serve on 127.0.0.1 only (another address is refused before the script runs, exit 2): exposing the page needs socklab --serve HOST:PORT from you.',
  examples: ['.serve 8080', '.serve 0.0.0.0:8080', '.serve stop'],
  check(a) {
    if (a.positionals[0] !== 'stop') parseServeAddress(a.positionals[0] ?? '');
  },
  scriptCheck: (a) => refuseNetworkServe(a.positionals[0] ?? ''),
  async run(ctx, a) {
    const text = a.positionals[0] ?? '';
    if (text === 'stop') {
      const serving = servingOf(ctx.session);
      if (serving === undefined) throw new SocklabError('E_STATE', 'the page is not being served: .serve PORT starts it');
      await serving.stop();
      ctx.print(`stopped serving the page (${serving.urls[0]})`);
      return;
    }
    const { host, port } = parseServeAddress(text);
    // Checked before a script runs; again here for a rule's COMMAND and a line built at run time.
    if (ctx.permissions !== undefined) refuseNetworkServe(text);
    const serving = await startServing(ctx.session, { ...(host !== undefined && { host }), port, settings: ctx.settings });
    const [first, ...others] = serving.urls;
    if (serving.token === undefined) {
      ctx.print(`serving the page at ${first} (read-only; this machine only)`);
    } else {
      ctx.print(
        `serving the page at ${first}${others.map((u) => `\n                    ${u}`).join('')}\n` +
          'reachable from the network: anyone with this link (its token) can watch the session, nobody can change it',
      );
    }
  },
});
