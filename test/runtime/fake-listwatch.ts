import type { KubernetesObject } from '@kubernetes/client-node';
import type { ListOptions, ListPage, ListWatch, WatchEvent } from '../../src/runtime/listwatch.ts';

/** A watch opened on a {@link FakeListWatch}, driven by the test. */
export interface OpenWatch {
  readonly resourceVersion: string;
  readonly emit: (event: WatchEvent) => void;
  readonly end: (err?: unknown) => void;
  aborted: boolean;
}

/** An object as the fake API server stores it. */
export function obj(namespace: string, name: string, resourceVersion: string, data: Record<string, unknown> = {}): KubernetesObject & { data: Record<string, unknown> } {
  return { apiVersion: 'v1', kind: 'Thing', metadata: { namespace, name, resourceVersion }, data };
}

/** An in-memory API server for one kind: the test edits `objects`, lists page through it, watches are opened by hand. */
export class FakeListWatch implements ListWatch {
  readonly objects = new Map<string, KubernetesObject>();
  readonly listCalls: ListOptions[] = [];
  readonly watches: OpenWatch[] = [];
  resourceVersion = '100';
  /** Errors the next list calls reject with, in order. */
  readonly listErrors: unknown[] = [];

  put(...objects: KubernetesObject[]): void {
    for (const o of objects) this.objects.set(`${o.metadata?.namespace}/${o.metadata?.name}`, o);
  }

  async list(options: ListOptions): Promise<ListPage> {
    this.listCalls.push(options);
    const err = this.listErrors.shift();
    if (err !== undefined) throw err;
    const all = [...this.objects.values()];
    const start = options.continue ? Number(options.continue) : 0;
    const end = start + options.limit;
    return {
      items: all.slice(start, end),
      resourceVersion: this.resourceVersion,
      ...(end < all.length ? { continue: String(end) } : {}),
    };
  }

  watch(resourceVersion: string, onEvent: (event: WatchEvent) => void, onDone: (err?: unknown) => void): { abort(): void } {
    const open: OpenWatch = { resourceVersion, emit: onEvent, end: onDone, aborted: false };
    this.watches.push(open);
    return { abort: () => (open.aborted = true) };
  }

  /** The watch opened last. */
  get current(): OpenWatch {
    const open = this.watches.at(-1);
    if (!open) throw new Error('no watch opened');
    return open;
  }
}
