import { runStoreContract } from "./contract.ts";
import { KvStore } from "./kv.ts";

runStoreContract("kv", async () => {
  const dir = await Deno.makeTempDir({ prefix: "control-kv-" });
  const path = `${dir}/control.kv`;
  return {
    store: await KvStore.open(path),
    reopen: () => KvStore.open(path),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
});
