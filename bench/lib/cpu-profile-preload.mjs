// Loaded into an app with NODE_OPTIONS="--import <this file>" when BENCH_CPU_PROFILE is set (Node 20
// refuses --cpu-prof in NODE_OPTIONS). SIGUSR2 starts V8's sampling profiler; the next SIGUSR2 stops
// it and writes `${BENCH_CPU_PROFILE}-<n>.cpuprofile`. The profile so covers only the load window,
// not start-up (tsx transpiling) nor shutdown.
import { writeFileSync, renameSync } from 'node:fs';
import { Session } from 'node:inspector';
import process from 'node:process';

const target = process.env.BENCH_CPU_PROFILE;
if (target) {
  const session = new Session();
  session.connect();
  const post = (method, params = {}) =>
    new Promise((resolve, reject) =>
      session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
    );
  let running = false;
  let index = 0;
  process.on('SIGUSR2', () => {
    if (!running) {
      running = true;
      void post('Profiler.enable')
        .then(() =>
          post('Profiler.setSamplingInterval', {
            interval: Number(process.env.BENCH_CPU_PROFILE_INTERVAL_US ?? 1000),
          }),
        )
        .then(() => post('Profiler.start'));
      return;
    }
    running = false;
    const file = `${target}-${index++}.cpuprofile`;
    void post('Profiler.stop').then(({ profile }) => {
      writeFileSync(`${file}.tmp`, JSON.stringify(profile));
      renameSync(`${file}.tmp`, file);
    });
  });
}
