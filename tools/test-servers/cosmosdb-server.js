#!/usr/bin/env node
// Starts @vercel/cosmosdb-server (pinned 1.0.1) for the IoMT.Deployment tests, on 127.0.0.1 only.
//
//   node cosmosdb-server.js --port 8081 [--cert cert.pem --key key.pem]
//
// With --cert/--key it serves HTTPS with that certificate, otherwise plain HTTP. Connections are kept alive (the
// package's own CLI closes every connection, which makes the .NET SDK about 6x slower).
//
// Workaround for a 1.0.1 bug: a point read of a missing document answers 500 (the handler dereferences the missing
// document) where Cosmos DB answers 404 NotFound. The read handler is wrapped here, before the router captures it, so
// the adapters under test see the real service's status code. Product code carries no workaround.
//
// The server exits when its standard input closes, so a crashed test host does not leave it running.
"use strict";

const path = require("path");
const fs = require("fs");

const lib = path.join(__dirname, "node_modules", "@vercel", "cosmosdb-server", "lib");

function argument(name) {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : undefined;
}

const port = Number(argument("port"));
if (!Number.isInteger(port) || port <= 0) {
  console.error("usage: node cosmosdb-server.js --port PORT [--cert cert.pem --key key.pem]");
  process.exit(2);
}

// Wrap the point-read handler before lib/index.js (and so lib/routes.js) is loaded: the route table keeps the
// function it finds at load time.
const readDocument = require(path.join(lib, "handler", "read-document.js"));
const partitionHeader = require(path.join(lib, "utils", "get-partition-from-header.js"));
const originalRead = readDocument.default;
readDocument.default = (account, req, res, params) => {
  const collection = account.database(params.dbId).collection(params.collId);
  if (collection.read()) {
    let partitionKey;
    try {
      partitionKey = partitionHeader.parsePartitionKey(partitionHeader.default(req), params.docId);
    } catch {
      partitionKey = undefined; // no usable header: let the original handler answer as it does
    }

    if (partitionKey !== undefined && !collection.document(params.docId, partitionKey).read()) {
      res.statusCode = 404;
      return { code: "NotFound", message: "Entity with the specified id does not exist in the system." };
    }
  }

  return originalRead(account, req, res, params);
};

const { createHttpServer, createHttpsServer } = require(path.join(lib, "index.js"));

const certPath = argument("cert");
const keyPath = argument("key");
const server =
  certPath && keyPath
    ? createHttpsServer({ cert: fs.readFileSync(certPath), key: fs.readFileSync(keyPath), keepAlive: true })
    : createHttpServer({ keepAlive: true });

server.keepAliveTimeout = 60000;
server.listen(port, "127.0.0.1", () => {
  console.log(`cosmosdb-server ready on ${certPath ? "https" : "http"}://127.0.0.1:${port}`);
});

function stop() {
  server.close();
  process.exit(0);
}

process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.resume();
