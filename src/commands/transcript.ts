import { SocklabError } from '../errors.js';
import { checkFile } from '../script/permissions.js';
import { startTranscript, transcriptOf } from '../script/transcript.js';
import { defineCommand } from './define.js';

export const transcript = defineCommand({
  name: 'transcript',
  group: 'scripts',
  summary: 'write the session from now on as Markdown to FILE.md (.transcript stop writes it)',
  args: { usage: '.transcript FILE.md | stop', positionals: ['FILE'] },
  help:
    'The commands, the events as a log and a Mermaid sequenceDiagram, ready to paste into an issue, a handout or a pull request. ' +
    'The file is written at .transcript stop, or when the session ends; an existing file is replaced. ' +
    'What a peer sent stays inside fenced blocks, so it cannot add links or HTML. In a script, .transcript needs --allow-write.',
  examples: ['.transcript lesson.md', '.transcript stop'],
  files: (a) => (a.positionals[0] === 'stop' ? [] : [{ path: a.positionals[0] ?? '', access: 'write', what: '.transcript' }]),
  run(ctx, a) {
    const file = a.positionals[0] ?? '';
    if (file === 'stop') {
      const current = transcriptOf(ctx.session);
      if (current === undefined) throw new SocklabError('E_STATE', 'no transcript is being written: .transcript FILE.md starts one');
      current.finish();
      ctx.print(`transcript written: ${current.path}`);
      return;
    }
    startTranscript(ctx.session, checkFile(ctx.permissions, { path: file, access: 'write', what: '.transcript' }));
    ctx.print(`writing a transcript to ${file} (.transcript stop, or the end of the session, writes it)`);
  },
});
