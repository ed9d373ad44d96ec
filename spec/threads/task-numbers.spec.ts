import { MessageKind, type RunTaskMessage, type TaskSpec } from '../../lib/threads/protocol';
import { receivedTasks, SentTasks } from '../../lib/threads/task-numbers';

/**
 * A pool thread is sent a task in full once, then its number: what the thread read of a child's
 * message is most of what a trivial child costs it.
 */

const task = (file: string, key: string): TaskSpec => ({ kind: 'task', location: { file, key, ordinal: 0, name: key } });
const message = (fields: Pick<RunTaskMessage, 'spec' | 'specNumber'>): RunTaskMessage => ({
  kind: MessageKind.RunTask,
  id: 1,
  ...fields,
  args: [],
  token: { kind: 'token', id: '0:0', memory: undefined, ancestors: [] },
});

describe('the tasks a thread was sent', () => {
  it('go in full with a number the first time, and as that number after, however the spec object was made', () => {
    const sent = new SentTasks();
    const first = sent.describe(task('/app/tasks.js', 'double'));
    expect(first).toEqual({ spec: task('/app/tasks.js', 'double'), specNumber: 0 });
    // A child added by a worker's branch arrives with a spec object of its own: the location decides.
    expect(sent.describe(task('/app/tasks.js', 'double'))).toEqual({ spec: 0 });
    expect(sent.describe(task('/app/tasks.js', 'halve'))).toEqual({ spec: task('/app/tasks.js', 'halve'), specNumber: 1 });
    expect(sent.describe(task('/app/other.js', 'double'))).toEqual({ spec: task('/app/other.js', 'double'), specNumber: 2 });
    expect(sent.describe(task('/app/tasks.js', 'halve'))).toEqual({ spec: 1 });
  });

  it('are counted per thread: another thread gets the task in full', () => {
    new SentTasks().describe(task('/app/tasks.js', 'double'));
    expect(new SentTasks().describe(task('/app/tasks.js', 'double'))).toEqual({ spec: task('/app/tasks.js', 'double'), specNumber: 0 });
  });

  it('never number an inline task, whose source goes in full each time', () => {
    const sent = new SentTasks();
    const inline: TaskSpec = { kind: 'inline', name: 'one', source: '() => 1' };
    expect(sent.describe(inline)).toEqual({ spec: inline });
    expect(sent.describe(inline)).toEqual({ spec: inline });
  });
});

describe('the tasks a thread received', () => {
  it('are found by number once a message brought them in full', () => {
    const sent = new SentTasks();
    const double = task('/app/tasks.js', 'double');
    const full = message(sent.describe(double));
    const short = message(sent.describe(double));
    receivedTasks().learn(full);
    receivedTasks().learn(short);
    expect(receivedTasks().spec(short)).toEqual(double);
    expect(receivedTasks().spec(full)).toEqual(double);
  });

  it('fail a child whose number this thread never got with an error that says a message was lost', () => {
    expect(() => receivedTasks().spec(message({ spec: 99 }))).toThrow('main was never sent the task numbered 99; a message from the main thread was lost');
  });
});
