// Reply threads on the reading view's cards: the replies to an annotation (or a note on the
// whole text) nested under it, a few levels deep, then "Continue this thread"; a Reply form
// on the card and on each reply; edit and delete where the server said `can_edit`. Replies
// are written through the same API as annotations (role checks, If-Match, sanitised
// Markdown): the server decides who may see and change them, these controls only follow.

export const THREAD_DEPTH = 4; // levels of replies shown nested on a card
const dateFormat = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });

export const replyCount = (n) => `${n} ${n === 1 ? "reply" : "replies"}`;

/** The replies of one text, by what they answer. */
export class ThreadIndex {
  constructor(replies = []) {
    this.replies = new Map(replies.map((r) => [r.id, r]));
    this.children = null;
  }

  put(reply) {
    this.replies.set(reply.id, reply);
    this.children = null;
  }

  /** Forget a reply and everything under it (the server deletes them together). */
  drop(id) {
    for (const child of this.childrenOf(id)) this.drop(child.id);
    if (this.replies.delete(id)) this.children = null;
  }

  has(id) {
    return this.replies.has(id);
  }

  get(id) {
    return this.replies.get(id);
  }

  childrenOf(id) {
    if (!this.children) {
      this.children = new Map();
      const written = [...this.replies.values()].sort((a, b) => a.created.localeCompare(b.created) || a.id - b.id);
      for (const reply of written) {
        if (!this.children.has(reply.reply_to)) this.children.set(reply.reply_to, []);
        this.children.get(reply.reply_to).push(reply);
      }
    }
    return this.children.get(id) || [];
  }

  /** How many replies answer `id`, at any depth. */
  size(id) {
    return this.childrenOf(id).reduce((n, child) => n + 1 + this.size(child.id), 0);
  }

  /** The ids from the thread's root (an annotation or note) down to `id`. */
  path(id) {
    const path = [id];
    let current = this.replies.get(id);
    while (current && path.length < 10_000) {
      path.unshift(current.reply_to);
      current = this.replies.get(current.reply_to);
    }
    return path;
  }
}

/** Renders and runs the threads of the cards of an `AnnotationList`. */
export class Threads {
  constructor({ index, api, config, announce }) {
    Object.assign(this, { index, api, config, announce });
    this.tops = new Map(); // card id → the reply a continued thread shows at its top
    this.collapsed = new Set(); // card ids whose thread the reader folded away
  }

  /** Fill the card's reply count and its nested replies. */
  render(card, annotation) {
    const count = this.index.size(annotation.id);
    const toggle = card.querySelector("[data-role=reply-count]");
    toggle.hidden = count === 0;
    toggle.textContent = replyCount(count);
    const open = count > 0 && !this.collapsed.has(annotation.id);
    toggle.setAttribute("aria-expanded", String(open));
    card.querySelector("[data-action=reply]").hidden = !this.config.canAnnotate;
    const thread = card.querySelector("[data-role=thread]");
    thread.hidden = !open;
    if (!open) {
      thread.replaceChildren();
      return;
    }
    const top = this.tops.get(annotation.id);
    if (top && this.index.has(top)) {
      const back = document.createElement("p");
      back.className = "ann-thread-back";
      back.append(actionButton("Back to the whole thread", "whole-thread"));
      thread.replaceChildren(back, this.list([this.index.get(top)], 1));
    } else {
      this.tops.delete(annotation.id);
      thread.replaceChildren(this.list(this.index.childrenOf(annotation.id), 1));
    }
  }

  list(replies, depth) {
    const ol = document.createElement("ol");
    ol.className = "ann-replies";
    ol.setAttribute("aria-label", depth === 1 ? "Replies" : "Replies to this reply");
    ol.append(...replies.map((reply) => this.item(reply, depth)));
    return ol;
  }

  item(reply, depth) {
    const li = document.createElement("li");
    li.className = "ann-reply";
    li.dataset.replyId = String(reply.id);
    li.tabIndex = -1;
    const meta = document.createElement("p");
    meta.className = "ann-meta";
    const who = document.createElement("strong");
    who.textContent = reply.creator?.username || "a former member";
    const when = document.createElement("time");
    when.dateTime = reply.created;
    when.textContent = dateFormat.format(new Date(reply.created));
    meta.append(who, " · ", when);
    if (reply.visibility === "private") {
      const badge = document.createElement("span");
      badge.className = "ann-badge";
      badge.title = "Only you can see this reply";
      badge.textContent = "Only me";
      meta.append(" ", badge);
    }
    const body = document.createElement("div");
    body.className = "ann-comment";
    body.dataset.role = "reply-body";
    body.innerHTML = reply.comment_html; // bleach-sanitised by the server on write
    const actions = document.createElement("p");
    actions.className = "ann-actions";
    const editable = this.config.canAnnotate && reply.can_edit;
    if (this.config.canAnnotate) actions.append(actionButton("Reply", "reply"));
    if (editable) actions.append(actionButton("Edit", "edit-reply"), actionButton("Delete", "delete-reply", "ann-delete"));
    for (const b of actions.querySelectorAll("button")) b.setAttribute("aria-label", `${b.textContent}: reply by ${who.textContent}`);
    const message = document.createElement("p");
    message.className = "ann-message";
    message.dataset.role = "reply-message";
    message.setAttribute("role", "alert");
    message.hidden = true;
    li.append(meta, body, actions, message);
    const children = this.index.childrenOf(reply.id);
    if (children.length && depth < THREAD_DEPTH) {
      li.append(this.list(children, depth + 1));
    } else if (children.length) {
      const more = document.createElement("p");
      more.className = "ann-thread-more";
      more.append(actionButton(`Continue this thread (${replyCount(this.index.size(reply.id))})`, "continue-thread"));
      li.append(more);
    }
    return li;
  }

  // --- what the reader does -------------------------------------------------------------

  /** A click in a card's thread or on its Reply button; true when it was handled. */
  onClick(event, card, rootId, rerender) {
    const button = event.target.closest("button[data-action]");
    if (!button) return Boolean(event.target.closest("[data-role=thread]"));
    const item = button.closest(".ann-reply");
    const replyId = item ? Number(item.dataset.replyId) : null;
    switch (button.dataset.action) {
      case "toggle-thread":
        if (this.collapsed.has(rootId)) this.collapsed.delete(rootId); else this.collapsed.add(rootId);
        rerender();
        card.querySelector("[data-role=reply-count]").focus();
        return true;
      case "reply":
        this.openForm(item || card, replyId || rootId, rootId, rerender);
        return true;
      case "edit-reply":
        this.openForm(item, replyId, rootId, rerender, this.index.get(replyId));
        return true;
      case "delete-reply":
        this.confirmDelete(item, replyId, rerender);
        return true;
      case "continue-thread":
        this.tops.set(rootId, replyId);
        rerender();
        this.focusReply(card, replyId);
        return true;
      case "whole-thread": {
        const was = this.tops.get(rootId);
        this.tops.delete(rootId);
        rerender();
        this.focusReply(card, was);
        return true;
      }
      default:
        return false;
    }
  }

  /** A form to reply to `parentId` (or, given `editing`, to change that reply). */
  openForm(holder, parentId, rootId, rerender, editing = null) {
    const open = holder.querySelector(":scope > form.ann-reply-form");
    if (open) {
      open.querySelector("textarea").focus();
      return;
    }
    const form = document.createElement("form");
    form.className = "ann-reply-form";
    form.setAttribute("aria-label", editing ? "Edit reply" : "Reply");
    const label = document.createElement("label");
    label.htmlFor = `reply-${editing ? "edit" : "to"}-${editing ? editing.id : parentId}`;
    label.textContent = editing ? "Your reply (Markdown)" : "Reply (Markdown)";
    const textarea = document.createElement("textarea");
    Object.assign(textarea, { id: label.htmlFor, rows: 3, value: editing ? editing.comment : "" });
    const buttons = document.createElement("p");
    buttons.className = "ann-buttons";
    const save = document.createElement("button");
    save.type = "submit";
    save.textContent = editing ? "Save" : "Post reply";
    const cancel = actionButton("Cancel", "cancel-reply", "secondary");
    cancel.className = "secondary";
    buttons.append(save, cancel);
    const message = document.createElement("p");
    message.className = "ann-message";
    message.setAttribute("role", "alert");
    message.hidden = true;
    form.append(label, textarea, buttons, message);
    const close = () => {
      form.remove();
      (holder.querySelector("[data-action=reply]") || holder).focus();
    };
    cancel.addEventListener("click", (e) => {
      e.stopPropagation();
      close();
    });
    form.addEventListener("keydown", (e) => {
      if (e.key !== "Escape") return;
      e.preventDefault();
      e.stopPropagation();
      close();
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!textarea.value.trim()) {
        showMessage(message, "Write the reply first.");
        return;
      }
      save.disabled = true;
      try {
        const saved = editing
          ? await this.api.update(editing, { comment: textarea.value })
          : await this.api.create({ reply_to: parentId, comment: textarea.value });
        form.remove();
        this.index.put(saved);
        this.collapsed.delete(rootId);
        rerender();
        this.announce(editing ? "Reply saved." : "Reply posted.");
        this.focusReply(holder.closest(".ann-card"), saved.id);
      } catch (error) {
        save.disabled = false;
        showMessage(message, error.status === 412
          ? "This reply was changed elsewhere since it was loaded; reload the page to see it."
          : error.message);
      }
    });
    const actions = holder.querySelector(":scope > .ann-actions, :scope > [data-role=actions]");
    (actions || holder.lastElementChild).after(form);
    textarea.focus();
  }

  confirmDelete(item, replyId, rerender) {
    const message = item.querySelector(":scope > [data-role=reply-message]");
    showMessage(message, "Delete this reply? ");
    const yes = actionButton("Delete", "confirm-delete", "secondary");
    const no = actionButton("Keep", "keep-reply", "secondary");
    message.append(yes, " ", no);
    no.addEventListener("click", (e) => {
      e.stopPropagation();
      showMessage(message, "");
      item.querySelector("[data-action=delete-reply]").focus();
    });
    yes.addEventListener("click", (e) => {
      e.stopPropagation();
      this.remove(item, replyId, rerender, false);
    });
    yes.focus();
  }

  async remove(item, replyId, rerender, withReplies) {
    const message = item.querySelector(":scope > [data-role=reply-message]");
    try {
      await this.api.remove(this.index.get(replyId), { withReplies });
    } catch (error) {
      if (error.status === 409 && error.body?.replies) {
        showMessage(message, `${error.message} `);
        const all = actionButton("Delete with its replies", "delete-with-replies", "secondary");
        all.addEventListener("click", (e) => {
          e.stopPropagation();
          this.remove(item, replyId, rerender, true);
        });
        message.append(all);
        all.focus();
        return;
      }
      if (error.status !== 404) {
        showMessage(message, error.message);
        return;
      }
    }
    const card = item.closest(".ann-card");
    this.index.drop(replyId);
    rerender();
    card?.focus();
    this.announce("Reply deleted.");
  }

  focusReply(card, id) {
    const item = id && card?.querySelector(`.ann-reply[data-reply-id="${id}"]`);
    if (!item) return;
    item.scrollIntoView({ block: "nearest" });
    item.focus({ preventScroll: true });
  }

  /** Open the thread of reply `id` on its card (a continued thread when it lies deep). */
  reveal(card, rootId, id) {
    this.collapsed.delete(rootId);
    const path = this.index.path(id); // root, …, id
    if (path.length - 1 > THREAD_DEPTH) this.tops.set(rootId, path[path.length - THREAD_DEPTH]);
    return () => {
      const item = card.querySelector(`.ann-reply[data-reply-id="${id}"]`);
      if (!item) return;
      item.classList.add("is-target");
      item.scrollIntoView({ block: "center" });
      item.focus({ preventScroll: true });
    };
  }
}

function actionButton(text, action, extraClass = "link") {
  const el = document.createElement("button");
  el.type = "button";
  el.className = extraClass;
  el.dataset.action = action;
  el.textContent = text;
  return el;
}

function showMessage(box, text) {
  box.textContent = text;
  box.hidden = !text;
}
