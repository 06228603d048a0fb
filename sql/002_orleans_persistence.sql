-- 002 Orleans grain persistence for Microsoft.Orleans.Persistence.AdoNet, Invariant "Npgsql".
-- Every query gets the grain's identity: ServiceId, GrainTypeString (the STATE NAME of
-- [PersistentState(name, storage)], not the grain class), GrainIdN0/GrainIdN1 (Guid halves or the integer
-- key), GrainIdExtensionString (string keys and key extensions, else NULL), plus two hashes of them.
-- Idempotent: every statement can run again on an existing database.
-- DeleteStateOnClear = true is not supported (no DeleteStorageKey): a cleared state keeps its row.

CREATE TABLE IF NOT EXISTS OrleansQuery (
    QueryKey  VARCHAR(64) PRIMARY KEY,
    QueryText TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS orleans_storage (
    service_id         TEXT NOT NULL,
    grain_type         TEXT NOT NULL,
    grain_id_n0        BIGINT NOT NULL,
    grain_id_n1        BIGINT NOT NULL,
    grain_id_extension TEXT,
    grain_id_hash      INTEGER NOT NULL,
    grain_type_hash    INTEGER NOT NULL,
    payload            BYTEA,            -- NULL once the state was cleared
    version            INTEGER NOT NULL, -- the ETag: 1 on the first write, +1 on every write or clear
    modified_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per state, ever: the full identity is unique. A NULL extension and an empty one are different
-- grains, hence the IS NULL term next to the COALESCE.
CREATE UNIQUE INDEX IF NOT EXISTS orleans_storage_identity ON orleans_storage
    (service_id, grain_type, grain_id_n0, grain_id_n1, COALESCE(grain_id_extension, ''), (grain_id_extension IS NULL));

-- Writes a state. p_version is the ETag the grain holds: NULL means "I saw no record", so insert only if
-- none exists; otherwise update only if the stored version is still p_version. Answers the new version,
-- or NULL on a conflict (another activation wrote first), which the provider turns into an
-- InconsistentStateException.
CREATE OR REPLACE FUNCTION orleans_write_storage(
    p_service_id TEXT, p_grain_type TEXT, p_n0 BIGINT, p_n1 BIGINT, p_extension TEXT,
    p_grain_id_hash INTEGER, p_grain_type_hash INTEGER, p_version INTEGER, p_payload BYTEA)
RETURNS INTEGER LANGUAGE plpgsql AS $$
DECLARE
    new_version INTEGER;
BEGIN
    IF p_version IS NULL THEN
        INSERT INTO orleans_storage (service_id, grain_type, grain_id_n0, grain_id_n1, grain_id_extension,
                                     grain_id_hash, grain_type_hash, payload, version)
        VALUES (p_service_id, p_grain_type, p_n0, p_n1, p_extension, p_grain_id_hash, p_grain_type_hash, p_payload, 1)
        ON CONFLICT DO NOTHING;
        RETURN CASE WHEN FOUND THEN 1 END;
    END IF;

    UPDATE orleans_storage
       SET payload = p_payload, version = version + 1, modified_at = now()
     WHERE service_id = p_service_id AND grain_type = p_grain_type AND grain_id_n0 = p_n0
       AND grain_id_n1 = p_n1 AND grain_id_extension IS NOT DISTINCT FROM p_extension
       AND version = p_version
    RETURNING version INTO new_version;
    RETURN new_version;
END
$$;

-- Clears a state (payload NULL, version + 1) under the same optimistic check. Returns one row with the new
-- version, or no row on a conflict.
CREATE OR REPLACE FUNCTION orleans_clear_storage(
    p_service_id TEXT, p_grain_type TEXT, p_n0 BIGINT, p_n1 BIGINT, p_extension TEXT,
    p_grain_id_hash INTEGER, p_grain_type_hash INTEGER, p_version INTEGER)
RETURNS SETOF INTEGER LANGUAGE plpgsql AS $$
DECLARE
    new_version INTEGER;
BEGIN
    IF p_version IS NULL THEN
        -- Nothing was ever written: record the cleared state as version 1, unless someone wrote first.
        INSERT INTO orleans_storage (service_id, grain_type, grain_id_n0, grain_id_n1, grain_id_extension,
                                     grain_id_hash, grain_type_hash, payload, version)
        VALUES (p_service_id, p_grain_type, p_n0, p_n1, p_extension, p_grain_id_hash, p_grain_type_hash, NULL, 1)
        ON CONFLICT DO NOTHING
        RETURNING version INTO new_version;
    ELSE
        UPDATE orleans_storage
           SET payload = NULL, version = version + 1, modified_at = now()
         WHERE service_id = p_service_id AND grain_type = p_grain_type AND grain_id_n0 = p_n0
           AND grain_id_n1 = p_n1 AND grain_id_extension IS NOT DISTINCT FROM p_extension
           AND version = p_version
        RETURNING version INTO new_version;
    END IF;

    IF new_version IS NOT NULL THEN
        RETURN NEXT new_version;
    END IF;
END
$$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('ReadFromStorageKey', $q$
    SELECT payload AS PayloadBinary, version AS Version
      FROM orleans_storage
     WHERE service_id = @ServiceId AND grain_type = @GrainTypeString AND grain_id_n0 = @GrainIdN0
       AND grain_id_n1 = @GrainIdN1 AND grain_id_extension IS NOT DISTINCT FROM @GrainIdExtensionString
$q$),
('WriteToStorageKey', $q$
    SELECT orleans_write_storage(@ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, @GrainIdExtensionString,
                                 @GrainIdHash, @GrainTypeHash, @GrainStateVersion, @PayloadBinary) AS NewGrainStateVersion
$q$),
('ClearStorageKey', $q$
    SELECT * FROM orleans_clear_storage(@ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, @GrainIdExtensionString,
                                        @GrainIdHash, @GrainTypeHash, @GrainStateVersion)
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
