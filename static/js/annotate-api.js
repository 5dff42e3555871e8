// The reading view's only door to the server: the plain-JSON annotation API with
// session authentication, the CSRF token from the page's config, and If-Match on every
// change so that nobody overwrites an edit made elsewhere.

export class ApiError extends Error {
  constructor(status, body) {
    super(describe(status, body));
    this.status = status;
    this.body = body;
  }
}

// DRF answers {"field": ["message", …]} or {"detail": "…"}; show the field with its message.
function describe(status, body) {
  if (status === 0) return "The server could not be reached; check your connection and try again.";
  if (status === 412) return "Someone changed this annotation since it was loaded here.";
  if (body && typeof body === "object") {
    if (typeof body.detail === "string") return body.detail;
    const parts = Object.entries(body).map(([field, messages]) => {
      const text = Array.isArray(messages) ? messages.join(" ") : flatten(messages);
      return field === "non_field_errors" ? text : `${field}: ${text}`;
    });
    if (parts.length) return parts.join(" ");
  }
  return `The server answered ${status}.`;
}

function flatten(value) {
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

export class Api {
  constructor(config) {
    this.urls = config.api;
    this.csrf = config.csrfToken;
  }

  headers(extra = {}) {
    return { Accept: "application/json", "X-CSRFToken": this.csrf, ...extra };
  }

  async request(url, { method = "GET", body, etag, keepalive = false } = {}) {
    const headers = this.headers(body === undefined ? {} : { "Content-Type": "application/json" });
    if (etag) headers["If-Match"] = etag;
    let response;
    try {
      response = await fetch(url, {
        method, headers, keepalive, credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, null);
    }
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  detailUrl(annotation) {
    return annotation.url || `${this.urls.annotations}${annotation.id}/`;
  }

  create(fields) {
    return this.request(this.urls.annotations, { method: "POST", body: fields });
  }

  get(annotation) {
    return this.request(this.detailUrl(annotation));
  }

  update(annotation, fields) {
    return this.request(this.detailUrl(annotation), { method: "PATCH", body: fields, etag: annotation.etag });
  }

  /** Refused with 409 when the highlight is a claim's evidence, unless `withEvidence`, or
   * when others replied to it, unless `withReplies`. */
  remove(annotation, { keepalive = false, withEvidence = false, withReplies = false } = {}) {
    const query = new URLSearchParams();
    if (withEvidence) query.set("with_evidence", "true");
    if (withReplies) query.set("with_replies", "true");
    const url = this.detailUrl(annotation) + (query.size ? `?${query}` : "");
    return this.request(url, { method: "DELETE", etag: annotation.etag, keepalive });
  }

  reattach(annotation, fields) {
    const url = `${this.detailUrl(annotation)}reattach/`;
    return this.request(url, { method: "POST", body: fields, etag: annotation.etag });
  }

  /** Tags of the library that match what was typed, most used first. */
  async suggestTags(library, typed, limit = 8) {
    const query = new URLSearchParams({ library, q: typed, limit: String(limit) });
    const data = await this.request(`${this.urls.tags}?${query}`);
    return Array.isArray(data) ? data : data?.results || [];
  }

  /** Every page of a list; the API pages with limit/offset and a `next` link. */
  async all(url) {
    const items = [];
    let next = url;
    while (next) {
      const data = await this.request(next);
      if (Array.isArray(data)) return items.concat(data);
      items.push(...(data.results || []));
      next = data.next;
    }
    return items;
  }
}
