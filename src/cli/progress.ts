/**
 * Progress of a long command: a bar redrawn in place on a terminal, plain lines (every 10%)
 * otherwise, so logs and CI output stay readable.
 */
const BAR_WIDTH = 30;
const REDRAW_MS = 100;

export interface ProgressReporter {
  step(): void;
  done(): void;
}

export function progressReporter(
  out: NodeJS.WriteStream,
  total: number,
  label = 'classes',
): ProgressReporter {
  let current = 0;
  if (out.isTTY === true) {
    let drawnAt = 0;
    const draw = (): void => {
      const filled = total === 0 ? BAR_WIDTH : Math.round((current / total) * BAR_WIDTH);
      out.write(
        `\r[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${current}/${total} ${label}`,
      );
      drawnAt = Date.now();
    };
    return {
      step() {
        current++;
        if (current === total || Date.now() - drawnAt >= REDRAW_MS) draw();
      },
      done() {
        draw();
        out.write('\n');
      },
    };
  }
  let reported = 0;
  return {
    step() {
      current++;
      const tenth = total === 0 ? 10 : Math.floor((current * 10) / total);
      if (tenth > reported) {
        reported = tenth;
        out.write(`${current}/${total} ${label}\n`);
      }
    },
    done() {
      if (current < total || total === 0) out.write(`${current}/${total} ${label}\n`);
    },
  };
}
