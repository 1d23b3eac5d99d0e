// The API with the token from the sign-in form, kept in sessionStorage (this tab only).

const KEY = "sovereign.token";

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

export class APIError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.diagnostics = body?.error?.diagnostics ?? [];
  }
}

export async function request(path, { method = "GET", body, type, as = "json" } = {}) {
  const headers = { Authorization: `Bearer ${token.get()}` };
  if (type) headers["Content-Type"] = type;
  const response = await fetch(path, { method, body, headers, cache: "no-store" });
  if (!response.ok) {
    let detail = null;
    try { detail = await response.json(); } catch { detail = null; }
    throw new APIError(response.status, detail);
  }
  return as === "text" ? response.text() : response.json();
}

export const get = (path) => request(path);
export const getText = (path) => request(path, { as: "text" });
