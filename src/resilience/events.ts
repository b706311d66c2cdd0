/** Typed event lists whose subscribe call returns a disposer: no string event names to misspell. */

/** Call it (or let `using` dispose it) to unsubscribe / release. Calling it twice is harmless. */
export type Disposer = (() => void) & Disposable;

export function makeDisposer(dispose: () => void): Disposer {
  let disposed = false;
  const disposer = (() => {
    if (disposed) return;
    disposed = true;
    dispose();
  }) as Disposer;
  disposer[Symbol.dispose] = disposer;
  return disposer;
}

/**
 * A list of listeners for one event. Copy-on-write, so a listener may unsubscribe while the event is being
 * delivered. A listener that throws does not stop the others or corrupt the emitter: its error is re-thrown on a
 * microtask (an uncaught exception, as a throwing EventEmitter listener would be).
 */
export class EventList<T> {
  private listeners: readonly ((event: T) => void)[] = [];

  constructor(private readonly onCountChange?: (count: number) => void) {}

  get count(): number {
    return this.listeners.length;
  }

  /** Subscribes `listener`; returns the disposer that unsubscribes it. */
  readonly subscribe = (listener: (event: T) => void): Disposer => {
    if (typeof listener !== 'function') throw new TypeError('An event listener must be a function');
    this.listeners = [...this.listeners, listener];
    this.onCountChange?.(this.listeners.length);
    return makeDisposer(() => {
      const index = this.listeners.indexOf(listener);
      if (index === -1) return;
      this.listeners = [...this.listeners.slice(0, index), ...this.listeners.slice(index + 1)];
      this.onCountChange?.(this.listeners.length);
    });
  };

  emit(event: T): void {
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i]!(event);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
