import * as core from '@actions/core';

/** What the logic of an action may say. Injected, so tests can record it. */
export interface Logger {
  info(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
}

/** The logger of a running action: the runner's log through @actions/core. */
export const actionsLogger: Logger = {
  info: (message) => core.info(message),
  warning: (message) => core.warning(message),
  debug: (message) => core.debug(message),
};

/** A logger that keeps every line, for tests. */
export class RecordingLogger implements Logger {
  readonly lines: Array<{ level: 'info' | 'warning' | 'debug'; message: string }> = [];
  info(message: string): void {
    this.lines.push({ level: 'info', message });
  }
  warning(message: string): void {
    this.lines.push({ level: 'warning', message });
  }
  debug(message: string): void {
    this.lines.push({ level: 'debug', message });
  }
  messages(level?: 'info' | 'warning' | 'debug'): string[] {
    return this.lines.filter((line) => !level || line.level === level).map((line) => line.message);
  }
}
