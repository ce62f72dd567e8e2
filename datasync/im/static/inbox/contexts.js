// What rows show besides their own record: a work's title and cover, a conversation's peer.
// Filled from unified rows (their context), works and conversations the page loaded, and live events.

export class Contexts {
  constructor() {
    this.works = new Map();
    this.peers = new Map();
  }

  learn(row) {
    const context = row.context || {};
    if (row.kind === "comment" && context.title) this.works.set(context.content_id, context);
    if (row.kind === "message" && context.peer) this.peers.set(context.conversation_id, context.peer);
  }

  learnWork(record) {
    this.works.set(record.content_id, { content_id: record.content_id, title: record.title, cover_url: record.cover_url });
  }

  learnConversation(record) {
    if (record.peer) this.peers.set(record.conversation_id, record.peer);
  }

  title(contentId, context) {
    return (context && context.title) || this.works.get(contentId)?.title || "";
  }

  context(kind, record) {
    if (kind === "comment") return this.works.get(record.content_id) || { content_id: record.content_id, title: "", cover_url: "" };
    return { conversation_id: record.conversation_id, peer: this.peers.get(record.conversation_id) || null };
  }

  peer(conversationId) {
    return this.peers.get(conversationId) || null;
  }
}
