/**
 * What the widget keeps in `localStorage`, one entry per Byrd server: the
 * chat's guest token (the chat id is inside it), the visitor's read
 * position, and the messages written
 * but not yet acknowledged, with their `client_msg_id`s. A reload, or a
 * second tab, resumes the same chat from it, and resends each unacked
 * message under its first id, so the server stores it once whatever
 * happened to the first try.
 *
 * Storage may be missing or refuse writes (private modes, full quotas,
 * sandboxed frames); the widget then works for the life of the page.
 */
export interface PendingSend {
  clientMsgId: string;
  body: string;
}

export interface SavedChat {
  token: string;
  pending: PendingSend[];
  /** The visitor's read position, so a reload does not count read messages as new. */
  readSeq: number;
}

export class ChatStorage {
  readonly key: string;

  constructor(server: string) {
    this.key = `byrd-widget:${server}`;
  }

  load(): SavedChat | null {
    try {
      const raw = localStorage.getItem(this.key);
      if (raw === null) return null;
      const saved = JSON.parse(raw) as Partial<SavedChat> | null;
      if (typeof saved?.token !== "string") return null;
      const pending = Array.isArray(saved.pending)
        ? saved.pending.filter((p): p is PendingSend => typeof p?.clientMsgId === "string" && typeof p.body === "string")
        : [];
      const readSeq = typeof saved.readSeq === "number" ? saved.readSeq : 0;
      return { token: saved.token, pending, readSeq };
    } catch {
      return null;
    }
  }

  save(chat: SavedChat): void {
    try {
      localStorage.setItem(this.key, JSON.stringify(chat));
    } catch {
      // Kept in memory only.
    }
  }

  clear(): void {
    try {
      localStorage.removeItem(this.key);
    } catch {
      // Nothing stored, nothing to clear.
    }
  }
}
