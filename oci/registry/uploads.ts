/**
 * Blob upload sessions of the push API: POST opens one (or uploads monolithically with `?digest=`, or
 * mounts with `?mount=&from=`), PATCH appends chunks in order (out of order => 416), PUT `?digest=`
 * closes it, GET reports progress, DELETE cancels. Session bytes live in `ingest/upload-<id>`, hashed
 * while they arrive, and reach `blobs/` only through `BlobStore.commitFile` after the digest matches.
 * A session survives a restart as its file (its offset is the file size; the hash is recomputed).
 *
 * @example
 * ```ts
 * import { UploadSessions } from "./uploads.ts";
 * import { openLocalRegistry } from "./local.ts";
 * const uploads = new UploadSessions(await openLocalRegistry(await Deno.makeTempDir()));
 * const res = await uploads.post(new Request("http://x/v2/a/blobs/uploads/", { method: "POST" }), "a");
 * res.status; // 202
 * ```
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import { parseDigest } from "../digest.ts";
import { DigestMismatchError, OciError } from "../errors.ts";
import { readReusing } from "../store.ts";
import type { LocalRegistry } from "./local.ts";

interface Session {
  id: string;
  path: string;
  offset: number;
  /** sha256 over bytes 0..offset, when every byte went through this process. */
  hash: Hash | null;
  busy: boolean;
}

const ID_PATTERN = /^[0-9a-f-]{36}$/;

/**
 * The upload handlers, bound to one registry.
 *
 * @example
 * ```ts
 * const uploads = new UploadSessions(registry);
 * ```
 */
export class UploadSessions {
  #registry: LocalRegistry;
  #sessions = new Map<string, Session>();

  constructor(registry: LocalRegistry) {
    this.#registry = registry;
  }

  #location(name: string, session: Session): Record<string, string> {
    return {
      location: `/v2/${name}/blobs/uploads/${session.id}`,
      "docker-upload-uuid": session.id,
      range: `0-${Math.max(0, session.offset - 1)}`,
      "content-length": "0",
    };
  }

  async #open(): Promise<Session> {
    const id = crypto.randomUUID();
    const session: Session = {
      id,
      path: `${this.#registry.store.root}/ingest/upload-${id}`,
      offset: 0,
      hash: createHash("sha256"),
      busy: false,
    };
    await Deno.writeFile(session.path, new Uint8Array());
    this.#sessions.set(id, session);
    return session;
  }

  /** The session, recovered from its file after a restart; BLOB_UPLOAD_UNKNOWN when there is none. */
  async #get(id: string): Promise<Session> {
    const known = this.#sessions.get(id);
    if (known) return known;
    if (ID_PATTERN.test(id)) {
      const path = `${this.#registry.store.root}/ingest/upload-${id}`;
      const stat = await Deno.stat(path).catch(() => null);
      if (stat?.isFile) {
        const session: Session = { id, path, offset: stat.size, hash: null, busy: false };
        this.#sessions.set(id, session);
        return session;
      }
    }
    throw new OciError(
      "BLOB_UPLOAD_UNKNOWN",
      `upload ${id} is unknown (finished, cancelled or never started)`,
      404,
    );
  }

  async #append(session: Session, body: ReadableStream<Uint8Array> | null): Promise<void> {
    if (!body) return;
    using file = await Deno.open(session.path, { write: true, append: true });
    try {
      for await (const chunk of readReusing(body)) {
        session.hash?.update(chunk);
        let written = 0;
        while (written < chunk.byteLength) written += await file.write(chunk.subarray(written));
        session.offset += chunk.byteLength;
      }
    } catch (e) {
      session.hash = null; // what reached the file is unknown now; PUT re-hashes the file
      session.offset = (await file.stat()).size;
      throw e;
    }
  }

  async #commit(session: Session, digest: string): Promise<void> {
    parseDigest(digest);
    this.#sessions.delete(session.id);
    try {
      if (await this.#registry.store.has(digest)) {
        await this.#registry.touchBlob(digest);
        return;
      }
      const hashed = session.hash && digest.startsWith("sha256:")
        ? `sha256:${session.hash.digest("hex")}`
        : undefined;
      if (hashed !== undefined && hashed !== digest) throw new DigestMismatchError(digest, hashed);
      await this.#registry.store.commitFile(session.path, digest, { hashed });
    } finally {
      await Deno.remove(session.path).catch(() => {});
    }
  }

  #created(name: string, digest: string): Response {
    return new Response(null, {
      status: 201,
      headers: {
        location: `/v2/${name}/blobs/${digest}`,
        "docker-content-digest": digest,
        "content-length": "0",
      },
    });
  }

  /** POST /v2/<name>/blobs/uploads/ (plain, `?digest=` monolithic, or `?mount=&from=`). */
  async post(req: Request, name: string, params = new URL(req.url).searchParams): Promise<Response> {
    const mount = params.get("mount");
    if (mount !== null) {
      parseDigest(mount, "mount");
      if (await this.#registry.store.has(mount)) {
        await this.#registry.touchBlob(mount);
        await req.body?.cancel();
        return this.#created(name, mount);
      }
    }
    const digest = params.get("digest");
    const session = await this.#open();
    if (digest !== null) {
      parseDigest(digest);
      await this.#append(session, req.body);
      await this.#commit(session, digest);
      return this.#created(name, digest);
    }
    await req.body?.cancel();
    return new Response(null, { status: 202, headers: this.#location(name, session) });
  }

  /** PATCH /v2/<name>/blobs/uploads/<id>: appends a chunk; Content-Range must start at the offset. */
  async patch(req: Request, name: string, id: string): Promise<Response> {
    const session = await this.#get(id);
    const range = req.headers.get("content-range");
    if (range !== null) {
      const m = /^(?:bytes[= ])?(\d+)-(\d+)(?:\/\d+|\/\*)?$/.exec(range.trim());
      if (!m || Number(m[1]) !== session.offset || Number(m[2]) < Number(m[1])) {
        await req.body?.cancel();
        return rangeRefused(name, session, `chunk ${range} does not start at offset ${session.offset}`);
      }
    }
    if (session.busy) {
      await req.body?.cancel();
      return rangeRefused(name, session, "another chunk of this upload is still being received");
    }
    session.busy = true;
    try {
      await this.#append(session, req.body);
    } finally {
      session.busy = false;
    }
    return new Response(null, { status: 202, headers: this.#location(name, session) });
  }

  /** PUT /v2/<name>/blobs/uploads/<id>?digest=: the optional last chunk, then verify and commit. */
  async put(
    req: Request,
    name: string,
    id: string,
    params = new URL(req.url).searchParams,
  ): Promise<Response> {
    const digest = params.get("digest");
    if (digest === null) {
      await req.body?.cancel();
      throw new OciError("DIGEST_INVALID", "closing an upload needs ?digest=<digest>", 400);
    }
    parseDigest(digest);
    const session = await this.#get(id);
    if (session.busy) {
      await req.body?.cancel();
      return rangeRefused(name, session, "a chunk of this upload is still being received");
    }
    session.busy = true;
    try {
      await this.#append(session, req.body);
    } finally {
      session.busy = false;
    }
    await this.#commit(session, digest);
    return this.#created(name, digest);
  }

  /** GET /v2/<name>/blobs/uploads/<id>: progress. */
  async status(name: string, id: string): Promise<Response> {
    const session = await this.#get(id);
    return new Response(null, { status: 204, headers: this.#location(name, session) });
  }

  /** DELETE /v2/<name>/blobs/uploads/<id>: cancels and frees the bytes. */
  async cancel(id: string): Promise<Response> {
    const session = await this.#get(id);
    this.#sessions.delete(id);
    await Deno.remove(session.path).catch(() => {});
    return new Response(null, { status: 204 });
  }
}

function rangeRefused(name: string, session: Session, message: string): Response {
  const body = JSON.stringify({ errors: [{ code: "BLOB_UPLOAD_INVALID", message }] });
  return new Response(body, {
    status: 416,
    headers: {
      "content-type": "application/json",
      location: `/v2/${name}/blobs/uploads/${session.id}`,
      range: `0-${Math.max(0, session.offset - 1)}`,
      "docker-upload-uuid": session.id,
    },
  });
}
