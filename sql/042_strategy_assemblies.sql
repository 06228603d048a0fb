-- 042 A custom strategy version's compiled assembly, made once by a compile-only run (which executes none of the
-- strategy's code) and reused by every optimization batch of that version run by the same worker. Keyed by the worker
-- that compiled it (the Docker runner's image id, the process runner's worker files), so a new worker image never
-- reuses an old compile. Each batch's worker checks the bytes against assembly_hash, that compiler_version is its
-- own, and audits the metadata again before loading it. Idempotent, like every script.
CREATE TABLE IF NOT EXISTS custom_strategy_assemblies (
    strategy_id      UUID NOT NULL,
    version          INTEGER NOT NULL,
    worker_version   TEXT NOT NULL,
    source_hash      TEXT NOT NULL,  -- the version's content_hash the compile read
    compiler_version TEXT NOT NULL,  -- the compiling worker's own compiler identity
    assembly         BYTEA NOT NULL,
    assembly_hash    TEXT NOT NULL,  -- SHA-256 (hex) of assembly, as the compile reported it
    schema           JSONB NOT NULL, -- the schema the compile read from the source
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (strategy_id, version, worker_version),
    FOREIGN KEY (strategy_id, version) REFERENCES custom_strategy_versions (strategy_id, version) ON DELETE CASCADE
);
