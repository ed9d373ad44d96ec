'use strict';
/**
 * The raw MessagePort anchor of the channel bench: one end of a stream of numbers between two
 * bare workers, over a MessagePort of their own (the main thread only starts a run and hears
 * when it is over).
 *
 * `workerData` is `{ role: 'producer' | 'consumer', window }`. The main thread hands each worker
 * its end of a MessageChannel (`{ port }`), then starts each run by posting `{ from, count }` to
 * both: the producer posts `from .. from + count - 1`, the consumer waits for `count` values.
 *
 * With a window, the flow is bounded like a channel of that capacity: the producer posts one
 * message per value while it holds credits (`window` of them to start with, one per value), and
 * the consumer gives credits back in acks of `window / 2` values, plus what is left at the end of
 * a run, so at most `window` values are ever posted and not yet taken. With `window: 0` the
 * producer posts every value at once and the consumer never acks: the unbounded upper limit.
 *
 * The consumer counts over the whole life of the worker and reports `{ count, sum }` of a run to
 * the main thread once it has taken every value of it (values may arrive before the run's start
 * message, which comes over another port).
 */
const { parentPort, workerData } = require('node:worker_threads');

const { role, window } = workerData;
const bounded = window > 0;
const ackEvery = Math.max(1, window >> 1);
let peer;

// The producer: the values of the current run still to post, and the credits it holds.
let credits = window;
let next = 0;
let end = 0;

function pump() {
  if (!bounded) {
    while (next < end) peer.postMessage(next++);
    return;
  }
  while (next < end && credits > 0) {
    peer.postMessage(next++);
    credits--;
  }
}

// The consumer: values taken over every run, the total to reach at the end of the current run.
let taken = 0;
let target = 0;
let runStart = 0;
let sum = 0;
let unacked = 0;

function ack() {
  if (unacked === 0) return;
  peer.postMessage(unacked);
  unacked = 0;
}

function finishRun() {
  if (taken !== target || target === runStart) return;
  if (bounded) ack();
  const result = { count: target - runStart, sum };
  runStart = target;
  sum = 0;
  parentPort.postMessage(result);
}

parentPort.on('message', (message) => {
  if (message.port !== undefined) {
    peer = message.port;
    peer.on('message', role === 'producer' ? onAck : onValue);
    return;
  }
  if (role === 'producer') {
    next = message.from;
    end = message.from + message.count;
    pump();
  } else {
    target += message.count;
    finishRun();
  }
});

function onAck(returned) {
  credits += returned;
  pump();
}

function onValue(value) {
  taken++;
  sum += value;
  if (bounded && ++unacked === ackEvery) ack();
  finishRun();
}
