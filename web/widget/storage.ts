/**
 * What the widget keeps in `localStorage`, per Byrd server: the chat's
 * guest token (the chat id is inside it), the visitor's read position,
 * and the messages written
 * but not yet acknowledged, with their `client_msg_id`s. A reload, or a
 * second tab, resumes the same chat from it, and resends each unacked
 * message under its first id, so the server stores it once whatever
 * happened to the first try.
 *
 * Beside it, under a key of its own, the visitor token (`byrd_vt_...`):
 * it outlives every chat, so that the next chat is the same visitor's.
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

/** The visitor token, kept apart from the chat: ending a chat must not forget the visitor. */
export class VisitorTokenStorage {
  readonly key: string;

  constructor(server: string) {
    this.key = `byrd-visitor:${server}`;
  }

  load(): string | null {
    try {
      const token = localStorage.getItem(this.key);
      return token?.startsWith("byrd_vt_") ? token : null;
    } catch {
      return null;
    }
  }

  save(token: string): void {
    try {
      localStorage.setItem(this.key, token);
    } catch {
      // Kept for this page only: the next page starts a new visitor.
    }
  }
}
