// Preloaded into Portkey's gateway (`node --import ./loopback.mjs`): it listens on every
// interface (`serve({ port })` names no host, and it has no flag for one), so a `listen` that
// names a port and no host is made to name 127.0.0.1. Nothing else changes.
import net from "node:net";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
    if (typeof args[0] === "number" && typeof args[1] !== "string") {
        args.splice(1, 0, "127.0.0.1");
    }
    return listen.apply(this, args);
};
